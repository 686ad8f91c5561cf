"""Import speed beside ogr2ogr (issue 4, part 7).

Generates (and caches in build/bench/imports/) a seeded survey point table
(管线点成果表, GBK CSV, X = northing, Y = easting, one connection per point, a
small fraction of deliberately bad rows) and a shapefile of pipe_segment lines
with Chinese field names (GBK .dbf + .cpg), then times, each in a fresh
subprocess with its peak RSS:

* ``ogr2ogr -f GPKG`` of the same file (the CSV as a point layer);
* ``renewal_planner.layers.importer.import_files`` into a fresh project,
  validation and quarantine included (the CSV builds pipe_point AND pipe_segment);
* with ``pg`` (bench/import_pg.py): the same files imported into a fresh PostGIS
  project, and ``ogr2ogr -f PostgreSQL`` of them as the like-for-like peer.

Run alone: ``python -m renewal_planner.bench.import_bench [--rows N] [--pg/--no-pg]``;
from the bench driver: ``run(rows, log, pg=...) -> markdown``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "bench", "imports")
RESULTS = os.path.join(ROOT, "build", "bench", "import-results.md")
CSV_HEADER = ["物探点号", "管线类别", "特征点", "附属物", "X", "Y", "地面高程", "埋深", "连接方向",
              "管径", "材质", "权属单位", "建设年代"]
SEED = 20240604
BAD_FRACTION = 0.005


def _log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data

def make_csv(path, rows, seed=SEED):
    """Chains of 50 points per utility line; each point connects to the next one."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = rows
    i = np.arange(n)
    chain, pos = i // 50, i % 50
    utils = np.array(["JS", "给水", "YS", "WS", "RQ", "燃气", "DL", "TX"])
    prefix = np.array(["JS", "JS", "YS", "WS", "RQ", "RQ", "DL", "TX"])
    u = rng.integers(0, len(utils), n // 50 + 1)[chain]
    uid = pd.Series(prefix[u]).str.cat(pd.Series(i + 1).astype(str))
    e0 = 480000 + rng.uniform(0, 40000, n // 50 + 1)[chain]
    n0 = 3360000 + rng.uniform(0, 40000, n // 50 + 1)[chain]
    east = e0 + pos * 30.0 + rng.uniform(-2, 2, n)
    north = n0 + pos * 5.0 + rng.uniform(-2, 2, n)
    ground = rng.uniform(8, 20, n)
    depth = rng.uniform(0.6, 3.0, n)
    nxt = np.where((pos < 49) & (i + 1 < n), pd.Series(prefix[u]).str.cat(pd.Series(i + 2).astype(str)), "")
    feats = np.array(["直线点", "转折点", "三通", "弯头", "变径", "预留口"])
    feat = feats[rng.choice(len(feats), n, p=[.6, .2, .02, .1, .05, .03])]
    apps = np.array(["", "", "", "阀门", "检修井", "消防栓"])
    app = apps[rng.integers(0, len(apps), n)]
    sizes = np.array(["DN300", "DN200", "De110", "Φ600", "300", "800×600", "4孔2根", "DN150"])
    size = sizes[rng.integers(0, len(sizes), n)]
    mats = np.array(["球墨铸铁", "PE", "钢", "混凝土", "PVC"])
    mat = mats[rng.integers(0, len(mats), n)]
    owner = np.array(["市自来水公司", "市政", "燃气集团", "供电局", "电信"])[rng.integers(0, 5, n)]
    year = rng.integers(1985, 2024, n).astype(str)
    df = pd.DataFrame({
        "物探点号": uid, "管线类别": utils[u], "特征点": feat, "附属物": app,
        "X": np.char.mod("%.3f", north), "Y": np.char.mod("%.3f", east),
        "地面高程": np.char.mod("%.2f", ground), "埋深": np.char.mod("%.2f", depth),
        "连接方向": nxt, "管径": size, "材质": mat, "权属单位": owner, "建设年代": year})
    # deliberately bad rows (about BAD_FRACTION): bad numbers, unknown codes, negative depths,
    # duplicate point numbers, absurd sizes
    bad = rng.choice(n, max(1, int(n * BAD_FRACTION)), replace=False)
    kinds = rng.integers(0, 5, len(bad))
    for k, col, val in ((0, "X", "abc"), (1, "管线类别", "ZZ"), (2, "埋深", "-1.5"), (4, "管径", "DN99999")):
        df.loc[bad[kinds == k], col] = val
    dup = bad[kinds == 3]
    df.loc[dup, "物探点号"] = df["物探点号"].iloc[np.maximum(dup - 7, 0)].to_numpy()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="gbk", newline="") as fh:
        df.to_csv(fh, index=False, lineterminator="\r\n")
    os.replace(tmp, path)
    return path


def make_shp(path, rows, seed=SEED + 1):
    """pipe_segment lines (2-4 vertices) with Chinese field names, GBK .dbf, .prj EPSG:4547."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    rng = np.random.default_rng(seed)
    n = rows
    nv = rng.integers(2, 5, n)
    offs = np.repeat(np.arange(n), nv)
    x0 = rng.uniform(480000, 520000, n)
    y0 = rng.uniform(3360000, 3400000, n)
    k = np.arange(len(offs)) - np.repeat(np.cumsum(nv) - nv, nv)
    xs = x0[offs] + k * rng.uniform(5, 30, len(offs))
    ys = y0[offs] + k * rng.uniform(-10, 10, len(offs))
    geoms = shapely.linestrings(np.column_stack([xs, ys]), indices=offs)
    utils = np.array(["JS", "给水", "YS", "WS", "RQ", "DL", "TX", "RL"])
    sizes = np.array(["DN300", "DN200", "De110", "Φ600", "300", "800×600", "4孔2根"])
    mats = np.array(["球墨铸铁", "PE", "钢", "混凝土", "PVC"])
    df = pd.DataFrame({
        "管线类别": utils[rng.integers(0, len(utils), n)],
        "管径": sizes[rng.integers(0, len(sizes), n)],
        "材质": mats[rng.integers(0, len(mats), n)],
        "起点埋深": np.round(rng.uniform(0.6, 3, n), 2),
        "终点埋深": np.round(rng.uniform(0.6, 3, n), 2),
        "权属单位": np.array(["市政", "燃气集团", "供电局"])[rng.integers(0, 3, n)],
        "建设年代": rng.integers(1985, 2024, n),
    })
    bad = rng.choice(n, max(1, int(n * BAD_FRACTION)), replace=False)
    kinds = rng.integers(0, 3, len(bad))
    df.loc[bad[kinds == 0], "管线类别"] = "ZZ"
    df.loc[bad[kinds == 1], "管径"] = "DN99999"
    df.loc[bad[kinds == 2], "起点埋深"] = -2.0
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4547")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK", engine="pyogrio")
    return path


def data_files(rows):
    csv_path = os.path.join(OUT, f"points-{rows}.csv")
    shp_path = os.path.join(OUT, f"lines-{rows}.shp")
    if not os.path.isfile(csv_path):
        _log(f"import bench: generating {csv_path}")
        make_csv(csv_path, rows)
    if not os.path.isfile(shp_path):
        _log(f"import bench: generating {shp_path}")
        make_shp(shp_path, rows)
    return csv_path, shp_path


# ---------------------------------------------------------------- timed jobs (in a fresh process)

def _job(kind, path, out):
    """Run one job in this process; print JSON {wall_s, peak_rss_mb, ...}."""
    import resource

    res = {}
    t0 = time.perf_counter()
    if kind == "ogr2ogr":
        if path.endswith(".csv"):
            # the point layer: easting in column Y, northing in column X (survey convention)
            subprocess.run(["ogr2ogr", "-f", "GPKG", out, path, "-oo", "X_POSSIBLE_NAMES=Y",
                            "-oo", "Y_POSSIBLE_NAMES=X", "-a_srs", "EPSG:4547", "-nln", "points"], check=True)
        else:
            subprocess.run(["ogr2ogr", "-f", "GPKG", out, path], check=True)
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        res["peak_rss_mb"] = ch.ru_maxrss / 1024.0
    else:
        from renewal_planner.layers import gpkg
        from renewal_planner.layers.importer import import_files

        gpkg.create_project(out, crs="EPSG:4547")
        t0 = time.perf_counter()
        (s,) = import_files(out, [path], stream=True)
        res.update({k: s[k] for k in ("records_in", "accepted", "rejected")})
        res["by_layer"] = s["by_layer"]
        from .worker import peak_rss_mb

        res["peak_rss_mb"] = peak_rss_mb()
    res["wall_s"] = time.perf_counter() - t0
    print(json.dumps(res, ensure_ascii=False))


def timed(kind, path, tag):
    out = os.path.join(OUT, f"out-{kind}-{tag}.gpkg")
    if os.path.exists(out):
        os.remove(out)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "renewal_planner.bench.import_bench", "--job", kind, path, out],
                       capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(f"{kind} on {path} failed:\n{p.stderr[-3000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["process_s"] = time.perf_counter() - t0
    if os.path.exists(out):
        os.remove(out)
    return res


def run(rows=1_000_000, log=_log, pg=None, out=RESULTS) -> str:
    """Generate (cached) data, time ogr2ogr and our import at ``rows`` and at a tenth of it
    (the flatness check); write ``out`` (build/bench/import-results.md); return its markdown.

    ``pg``: also import the same files into a fresh PostGIS project (bench/import_pg.py,
    the PostGIS store bench's throwaway cluster) beside ``ogr2ogr -f PostgreSQL``; None: when
    a PostgreSQL server can be started here; skipped (the reason logged and written) otherwise."""
    sizes = sorted({max(1000, rows // 10), rows})
    lines = ["| file | rows | ogr2ogr s | ours s | ratio | ours peak MB | accepted | rejected |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    results = {}
    files = {}
    for n in sizes:
        csv_path, shp_path = data_files(n)
        files[n] = (csv_path, shp_path)
        for label, path in ((CSV_LABEL, csv_path), (SHP_LABEL, shp_path)):
            log(f"import bench: {label} {n} rows: ogr2ogr")
            og = timed("ogr2ogr", path, f"{n}")
            log(f"import bench: {label} {n} rows: ours ({og['wall_s']:.1f} s for ogr2ogr)")
            ours = timed("ours", path, f"{n}")
            results[(label, n)] = (og, ours)
            lines.append(_row(label, n, og, ours))
    try:
        pg_md = _pg_part(sizes, files, results, lines, log, pg)
    except Exception as exc:  # noqa: BLE001  (the server would not start: keep the GeoPackage figures)
        log(f"import bench: PostGIS imports failed: {type(exc).__name__}: {exc}")
        pg_md = ["", f"PostGIS imports failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"]
    md = ["## Import speed beside ogr2ogr", "",
          f"Same files, same run, each job in a fresh process (wall time, peak RSS). "
          f"Ours = `import_files` into a fresh project, validation and quarantine included; "
          f"a point table's records are its points plus one segment record per connection. "
          f"ogr2ogr s = `ogr2ogr -f GPKG` of the same file (also the reference of the PostGIS rows).", ""] + lines
    for label in dict.fromkeys(k[0] for k in results):
        peaks = [results[(label, n)][1]["peak_rss_mb"] for n in sizes if (label, n) in results]
        if len(peaks) == 2:
            md.append(f"\n{label}: peak RSS {peaks[0]:.0f} MB at {sizes[0]:,} rows, {peaks[1]:.0f} MB at "
                      f"{sizes[1]:,} rows.")
    text = "\n".join(md + pg_md) + "\n"
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(text)
    return text


PG_MAX_ROWS = 1_000_000   # the PostGIS import is streamed (flat memory) like the GeoPackage one
CSV_LABEL = "points CSV (GBK, builds points + segments)"
SHP_LABEL = "lines shapefile (GBK .dbf)"
PG_LABELS = {CSV_LABEL: "points CSV -> PostGIS", SHP_LABEL: "lines shapefile -> PostGIS"}


def _row(label, n, og, ours) -> str:
    return (f"| {label} | {n:,} | {og['wall_s']:.1f} | {ours['wall_s']:.1f} | "
            f"{ours['wall_s'] / og['wall_s']:.2f} | {ours['peak_rss_mb']:.0f} | "
            f"{ours['accepted']:,} | {ours['rejected']:,} |")


def _pg_part(sizes, files, results, lines, log, pg) -> list:
    """The PostGIS rows (appended to ``lines``, results under (PG label, n)); returns
    the markdown that follows the table: the ogr2ogr -f PostgreSQL peer, or why skipped."""
    from . import import_pg

    if pg is False:
        return []
    why = import_pg.server_missing()
    if why:
        log(f"import bench: PostGIS imports skipped: {why}")
        return ["", f"PostGIS imports not measured: {why}."]
    peer = ["", "PostGIS imports: `import_files` into a fresh PostGIS project (a throwaway local cluster, "
            "fsync off; Python process peak RSS, the server's memory not in it) beside "
            "`ogr2ogr -f PostgreSQL` (COPY, no validation) of the same file:", "",
            "| file | rows | ogr2ogr -f PostgreSQL s | ours s (read + validate / write) | ratio | "
            "same accepted / rejected as GeoPackage |",
            "|---|---:|---:|---:|---:|---|"]
    pg_sizes = [n for n in sizes if n <= PG_MAX_ROWS]
    if len(pg_sizes) < len(sizes):
        peer[1] = f"PostGIS imports measured up to {PG_MAX_ROWS:,} rows. " + peer[1]
    with import_pg.cluster() as ci:
        for n in pg_sizes:
            for label, path in zip((CSV_LABEL, SHP_LABEL), files[n]):
                name = PG_LABELS[label]
                og = results[(label, n)][0]
                log(f"import bench: {name} {n} rows: ogr2ogr -f PostgreSQL")
                try:
                    ogp = import_pg.timed_ogr2ogr(ci, path, f"{n}")
                except RuntimeError as exc:
                    log(f"import bench: {exc}")
                    ogp = None
                log(f"import bench: {name} {n} rows: ours")
                try:
                    ours = import_pg.timed_import(ci, path, f"{n}")
                except RuntimeError as exc:
                    log(f"import bench: {exc}")
                    lines.append(f"| {name} | {n:,} | {og['wall_s']:.1f} | failed: {str(exc).splitlines()[0]} "
                                 f"| | | | |")
                    continue
                results[(name, n)] = (og, ours)
                lines.append(_row(name, n, og, ours))
                gp = results[(label, n)][1]
                same = (gp["accepted"], gp["rejected"]) == (ours["accepted"], ours["rejected"])
                split = (f" ({ours['plan_s']:.1f} / {ours['write_s']:.1f})"
                         if ours.get("plan_s") is not None else "")
                verdict = "yes" if same else f"NO: GeoPackage {gp['accepted']:,} / {gp['rejected']:,}"
                peer.append(f"| {name} | {n:,} | {ogp['wall_s']:.1f} | {ours['wall_s']:.1f}{split} | "
                            f"{ours['wall_s'] / ogp['wall_s']:.2f} | {verdict} |" if ogp else
                            f"| {name} | {n:,} | failed | {ours['wall_s']:.1f}{split} | | {verdict} |")
    return peer


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m renewal_planner.bench.import_bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pg", action=argparse.BooleanOptionalAction, default=None,
                    help="also import into a fresh PostGIS project beside ogr2ogr -f PostgreSQL "
                         "(default: when a PostgreSQL server can be started here)")
    ap.add_argument("--job", nargs=3, metavar=("KIND", "FILE", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.job:
        _job(*a.job)
        return 0
    if not shutil.which("ogr2ogr"):
        print("ogr2ogr not found: install gdal-bin (scripts/deps.sh)", file=sys.stderr)
        return 2
    print(run(a.rows, pg=a.pg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
