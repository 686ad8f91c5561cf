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


LINE_HEADER = ["起点点号", "终点点号", "起点埋深", "终点埋深", "管径", "材质"]


def sewer_rows(n):
    """A sewer line WS0..WS{n-1} away from GOOD_ROWS' water line (a project's other pipes)."""
    out = []
    for k in range(n):
        nxt = f"WS{k + 1}" if k + 1 < n else ""
        out.append([f"WS{k}", "WS", "直线点", "检修井", f"{3379000.0 + 2.0 * k:.3f}", "500000.000", "12.00",
                    "2.50", nxt, "DN400", "钢筋混凝土"])
    return out


def delivery_files(tmp_path):
    """A point table and a line table delivered together, touching GOOD_ROWS' water line and
    sewer_rows' line (test_import_state.py says what each record does)."""
    pts = [
        # JS1 deeper: an update of the point and of the pipe JS1-JS2
        ["JS1", "JS", "直线点", "阀门", "3379500.000", "501500.000", "12.50", "1.40", "JS2", "DN300", "球墨铸铁"],
        # JS2 again, a tee: the project's JS1-JS2 and JS5-JS2 and this JS2-JS3 make 3 pipes
        ["JS2", "给水", "三通", "", "3379510.000", "501500.000", "12.40", "1.10", "JS3", "DN300", "球墨铸铁"],
        # a new tee on the project's JS4 with one pipe only: a finding
        ["JS7", "JS", "三通", "", "3379525.000", "501510.000", "12.10", "1.00", "JS4", "De110", "PE"],
        # a new point joined to the project's JS3
        ["JS6", "JS", "直线点", "", "3379505.000", "501515.000", "12.35", "1.05", "JS3", "De110", "PE"],
        # the same number as a sewer point of the project: an update that moves it
        ["WS7", "WS", "直线点", "检修井", "3379014.000", "500000.500", "12.00", "2.60", "", "DN400", "钢筋混凝土"],
    ]
    lines = [
        ["JS6", "JS4", "1.05", "1.0", "De110", "PE"],       # JS6 from the file before, JS4 from the project
        ["JS1", "JS99", "1.4", "1.0", "DN300", "PE"],       # JS99 is nowhere: rejected
        ["WS3", "WS4", "2.5", "2.55", "DN400", "钢筋混凝土"],  # an existing pipe, deeper at its end
    ]
    return [write_csv(tmp_path / "d1.csv", POINT_HEADER, pts), write_csv(tmp_path / "d2.csv", LINE_HEADER, lines)]


def plan_dump(plan):
    """Every planned row (action, fid, values, geometry), reject and finding of an ImportPlan."""
    out = []
    for p, _ in plan.plans:
        out.append(([(r.layer, r.record_no, r.action, r.fid, sorted(r.values.items(), key=str),
                      r.geometry.wkt if r.geometry is not None else None) for r in p.rows],
                    sorted(map(str, p.rejects)), sorted(map(str, p.findings)), p.records_in))
    return out
