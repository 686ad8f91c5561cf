"""The demo district as QGIS opens it: the project file beside the GeoPackage,
every layer valid, styled from the GeoPackage, features in EPSG:4547, the DEM
readable by QGIS with the same CRS."""
from __future__ import annotations

import os

import pytest
from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer

from renewal_planner.layers import schema
from renewal_planner.tools import demo


@pytest.fixture(scope="module")
def built(tmp_path_factory, qgis_app):
    out = tmp_path_factory.mktemp("demo_qgis")
    # an older, unstyled demo in the folder is replaced
    demo.build_demo(str(out), seed=3, with_styles=False)
    return demo.build_demo(str(out))


def test_project_file_opens_with_every_layer(built):
    assert built["qgs"] and os.path.isfile(built["qgs"])
    prj = QgsProject()
    try:
        assert prj.read(built["qgs"])
        layers = list(prj.mapLayers().values())
        names = {lyr.source().split("layername=")[-1].split("|")[0] for lyr in layers
                 if isinstance(lyr, QgsVectorLayer)}
        for lyr in schema.model().thematic:
            assert lyr.name in names
        for lyr in layers:
            assert lyr.isValid(), lyr.name()
            if isinstance(lyr, QgsVectorLayer) and lyr.source().split("layername=")[-1] in built["counts"]:
                name = lyr.source().split("layername=")[-1]
                assert lyr.featureCount() == built["counts"][name]
                assert lyr.crs().authid() == "EPSG:4547"
        assert prj.crs().authid() == "EPSG:4547"
    finally:
        prj.clear()


def test_layers_are_styled_from_the_geopackage(built):
    lyr = QgsVectorLayer(f"{built['project']}|layername=pipe_segment", "pipes", "ogr")
    assert lyr.isValid()
    msg, ok = lyr.loadDefaultStyle()
    assert ok, msg
    assert lyr.renderer().type() in ("categorizedSymbol", "RuleRenderer")


def test_dem_in_qgis(built):
    dem = QgsRasterLayer(built["dem"], "dem")
    assert dem.isValid() and dem.crs().authid() == "EPSG:4547"
    pipes = QgsVectorLayer(f"{built['project']}|layername=pipe_point", "p", "ogr")
    assert dem.extent().contains(pipes.extent())
    stats = dem.dataProvider().bandStatistics(1)
    assert 15 < stats.minimumValue < stats.maximumValue < 30
