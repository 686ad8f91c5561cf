"""Shared helpers for the importer tests (no QGIS)."""
import csv
import io
import pathlib
import sqlite3

from renewal_planner.layers import gpkg

DATA = pathlib.Path(__file__).parent / "data" / "import"

POINT_HEADER = ["物探点号", "管种", "特征点", "附属物", "X", "Y", "地面高程", "埋深", "连接方向", "管径", "材质"]
# A good point table: a water line JS1-JS2-JS3 with a branch JS2-JS4 (JS2 is a tee with 3 pipes
# once JS5-JS2 comes in)
GOOD_ROWS = [
    ["JS1", "JS", "直线点", "阀门", "3379500.000", "501500.000", "12.50", "1.20", "JS2", "DN300", "球墨铸铁"],
    ["JS2", "给水", "三通", "", "3379510.000", "501500.000", "12.40", "1.10", "JS3", "DN300", "球墨铸铁"],
    ["JS3", "JS", "弯头", "", "3379510.000", "501510.000", "12.30", "1.00", "JS4", "De110", "PE"],
    ["JS4", "JS", "终点", "", "3379520.000", "501510.000", "12.20", "", "", "De110", "PE"],
    ["JS5", "JS", "直线点", "", "3379510.000", "501490.000", "12.45", "1.15", "JS2", "DN200", "PE"],
]


def make_project(tmp_path, name="p.gpkg", crs="EPSG:4547"):
    return gpkg.create_project(str(pathlib.Path(tmp_path) / name), crs=crs)


def write_csv(path, header, rows, encoding="utf-8", title=None):
    buf = io.StringIO()
    w = csv.writer(buf)
    if title:
        w.writerow([title])
    w.writerow(header)
    w.writerows(rows)
    pathlib.Path(path).write_bytes(buf.getvalue().encode(encoding))
    return str(path)


def rows(project, sql):
    con = sqlite3.connect(project)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def table_dump(project):
    """Every row of the tables an import may touch (geometry blobs included)."""
    out = {}
    for t in ("pipe_point", "pipe_segment", "import_batch", "import_reject"):
        out[t] = sorted(rows(project, f"SELECT * FROM {t}"), key=repr)
    return out
