"""QGIS's own GDAL/PROJ/GEOS and the wheels' copies live in one process.

The plugin runs inside QGIS's Python with shapely/pyogrio/fiona/rasterio/
pyproj wheels that bundle their own GDAL, PROJ and GEOS. Both stacks must
open the same GeoPackage and reproject the same points, with the same answers,
in one process, in either import order.
"""
import numpy as np
import pytest
from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsGeometry,
                       QgsPointXY, QgsProject, QgsVectorLayer, Qgis)

from renewal_planner.layers import gpkg, io

# CGCS2000 3-degree GK CM 114E -> CGCS2000 geographic, points around Wuhan
XY = np.array([[530000.0, 3380000.0], [531234.5, 3381876.25], [499000.0, 3400000.0]])


def test_versions_are_reported(qgis_app):
    import fiona, pyogrio, pyproj, rasterio, shapely
    from osgeo import gdal

    # Each stack reports its own library; none of them may have replaced another.
    assert Qgis.QGIS_VERSION_INT >= 32200
    assert shapely.geos_version >= (3, 10, 0)
    assert gdal.VersionInfo()  # QGIS's system GDAL
    assert pyogrio.__gdal_version__ >= (3, 4, 0)
    assert fiona.__gdal_version__ and rasterio.__gdal_version__
    assert pyproj.proj_version_str


def test_geopackage_read_by_both_stacks(qgis_app, tmp_path):
    import fiona
    import geopandas as gpd
    from shapely.geometry import LineString

    path = gpkg.create_project(str(tmp_path / "p.gpkg"))
    lines = [LineString([(530000 + i, 3380000), (530010 + i, 3380020 + i)]) for i in range(5)]
    io.write_layer(path, "pipe_segment", gpd.GeoDataFrame(
        {"uid": [f"JS{i}" for i in range(5)], "utility": ["JS"] * 5}, geometry=lines, crs="EPSG:4547"))
    # QGIS (system GDAL through the OGR provider)
    layer = QgsVectorLayer(f"{path}|layername=pipe_segment", "p", "ogr")
    assert layer.isValid() and layer.featureCount() == 5
    q_len = sorted(f.geometry().length() for f in layer.getFeatures())
    # pyogrio (its own GDAL), fiona (its own GDAL), shapely (its own GEOS)
    df = io.read_layer(path, "pipe_segment")
    assert sorted(df.length) == pytest.approx(q_len, abs=1e-9)
    with fiona.open(path, layer="pipe_segment") as src:
        assert sorted(r["properties"]["uid"] for r in src) == [f"JS{i}" for i in range(5)]
    # GEOS through QGIS and through shapely agree on a geometric predicate
    g_q = QgsGeometry.fromWkt(lines[0].wkt).buffer(1.0, 16)
    assert g_q.area() == pytest.approx(lines[0].buffer(1.0, 16).area, rel=1e-9)


def test_reprojection_agrees(qgis_app):
    import pyproj
    import rasterio.warp

    tr = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4547"),
                                QgsCoordinateReferenceSystem("EPSG:4490"), QgsProject.instance())
    q = np.array([[p.x(), p.y()] for p in (tr.transform(QgsPointXY(x, y)) for x, y in XY)])
    t = pyproj.Transformer.from_crs("EPSG:4547", "EPSG:4490", always_xy=True)
    lon, lat = t.transform(XY[:, 0], XY[:, 1])
    assert np.allclose(q, np.c_[lon, lat], atol=1e-9)
    rx, ry = rasterio.warp.transform("EPSG:4547", "EPSG:4490", XY[:, 0], XY[:, 1])
    assert np.allclose(q, np.c_[rx, ry], atol=1e-9)
    from osgeo import osr

    s, d = osr.SpatialReference(), osr.SpatialReference()
    s.ImportFromEPSG(4547)
    d.ImportFromEPSG(4490)
    d.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    o = np.array(osr.CoordinateTransformation(s, d).TransformPoints(XY.tolist()))[:, :2]
    assert np.allclose(q, o, atol=1e-9)
    # 114E is the central meridian of EPSG:4547: easting 500000 lies on it
    assert q[2, 0] == pytest.approx(114 - (500000 - 499000) / (111320 * np.cos(np.radians(q[2, 1]))), abs=1e-3)


def test_wheels_first_then_qgis_in_a_fresh_process(tmp_path):
    """The other import order, as in a plugin that imports geopandas before QGIS starts."""
    import subprocess
    import sys

    code = (
        "import geopandas, rasterio, fiona, shapely\n"
        "from qgis.core import QgsApplication, QgsVectorLayer\n"
        "app = QgsApplication([], False); app.initQgis()\n"
        "from renewal_planner.layers import gpkg\n"
        f"p = gpkg.create_project({str(tmp_path / 'q.gpkg')!r})\n"
        "l = QgsVectorLayer(p + '|layername=tree', 't', 'ogr')\n"
        "print(l.isValid(), len(geopandas.read_file(p, layer='tree')), flush=True)\n"
        "del l\n"  # a layer outliving exitQgis() crashes QGIS's teardown
        "app.exitQgis()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "True 0"
