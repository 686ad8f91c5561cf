"""Streaming import of large survey deliveries: chunked, columnar, one transaction.

CSV point tables (管线点成果表) and shapefiles of pipe lines. Same result as the
per-record path (validate.plan_source + batch.write_plans), which the tests use
as the oracle: the per-record converters are called here too, once per DISTINCT
value (memoised, mapped back to the rows by factorize codes), and replaced by
vectorised equivalents (arrow regex + cast) only where they are provably the
same (plain decimal numbers, plain ASCII text).

CSV, three passes over the file, each in chunks (memory flat in the file size
except the point index below):
  A. point numbers and coordinates -> the X/Y swap and zone-prefix decision
     (coords.TableCrs: table_crs's decision from per-chunk counts) and the point index;
  B. every record converted and checked; points written (accepted) or
     quarantined as they go;
  C. the connections (连接方向): one segment record per connected point,
     resolved against the point index; written / quarantined as they go.
Shapefile of lines (import_shp): one pass, pyogrio arrow batches, geometry
checks vectorised with shapely, uids from the geometry, duplicates by sorted key runs.
All writes happen inside ONE sqlite transaction on the project: the import
finishes or changes nothing. Rows go in through sqlite_bulk (bound from Arrow
buffers in compiled code, in a background thread while the next chunk is parsed;
executemany where numba is missing). Point and two-point line blobs are built in
numpy (_Straight). The R-trees of the (empty) layers are packed directly at the
end (rtree_bulk.py), their entries waiting in temporary files.
A PostGIS project (fresh: no pipes yet) is written by pg_stream.py's writer instead
(same interface, chosen in _open_writer): every chunk COPYed in one PostgreSQL
transaction, the GiST indexes kept by the server.

Memory (per row / point, besides one chunk and one chunk being written): the point index
(_PointIndex) is the sorted distinct 64-bit hashes of the point numbers plus a second hash
against collisions (16 bytes a point, no dict of strings) and a 4-byte point id a row (+1 byte
ok); per point 4 (accepted record) + 3x8 (x, y, depth) + 2x2 (utility, subclass codes) + 4
(pipe ends) + 1; 8 bytes a segment for the merged-duplicate keys (sorted runs). Rejects are pickled into one
buffer, spilled to a temporary file beyond 1 MB (RejectSpool). R-tree entries wait in temporary files, sorted by
numpy at the end (16 bytes a feature while sorting). The arrow CSV reader reads up to 32 blocks
ahead: blocks of 1 MB (BLOCK).

Not streamed (falls back to the per-record path, ``Fallback``): other formats,
line tables (起点/终点 columns), files whose CSV framing needs the Python csv
module (ragged rows, skipinitialspace, BOMs, multi-line headers), shapefiles
with point references, uid columns, date fields, NULL geometries or no EPSG
CRS, several files in one call, a project that already holds pipes.
"""
from __future__ import annotations

import codecs
import csv
import itertools
import operator
import os
import re

import numpy as np

from .. import gpkgblob, schema
from ..errors import InputError
from . import coords, mapping, readers, validate
from .validate import POINT, SEGMENT, Problem

CHUNK = 10_000        # rows a chunk: 10k keeps the floor ~200 MB lower than 50k at the same speed
BLOCK = 1 << 20       # arrow CSV block: the reader reads up to 32 blocks ahead
_MISSING = object()
_PLAIN_NUM = r"^-?[0-9]+(\.[0-9]+)?$"
_SIZE_KEYS = {"diameter_mm", "width_mm", "height_mm", "holes_total", "cable_count"}


class Fallback(Exception):
    """This file is not streamed: use the per-record path."""


# ---------------------------------------------------------------- file framing

def detect_encoding_stream(path) -> str:
    """readers.detect_encoding on the whole file, decoded in blocks (no whole-file read)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for enc in ("utf-8", "gb18030"):
        dec = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    dec.decode(block)
            dec.decode(b"", final=True)
            return "utf-8" if enc == "utf-8" else "GB18030"
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _framing(path, enc):
    """(dialect, header names, rows before the data) as readers.read_csv finds them."""
    with open(path, "rb") as fh:
        raw = fh.read(1 << 18)
    text = codecs.getincrementaldecoder(enc)(errors="strict").decode(raw)
    try:
        dialect = csv.Sniffer().sniff(text[:20000], delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    if getattr(dialect, "skipinitialspace", False) or getattr(dialect, "escapechar", None):
        raise Fallback("csv dialect")
    lines = re.split(r"\r\n|\n|\r", text)
    if len(lines) < 3:
        raise Fallback("short")
    scan = lines[:-1][:mapping.check_value("header_scan_rows") + 2]
    rows = []
    for ln in scan:
        got = list(csv.reader([ln], dialect))
        if len(got) != 1:
            raise Fallback("header framing")
        rows.append(got[0])
    hi, header, start = readers._find_header(rows)
    if header is None:
        return None
    if any(not r for r in rows[:start]) or start >= len(rows) or len(header) != len(rows[hi]):
        raise Fallback("header framing")
    return dialect, header, start


def _batches(path, enc, dialect, header, start):
    import pyarrow as pa
    from pyarrow import csv as pacsv

    ro = pacsv.ReadOptions(skip_rows=start, column_names=header, block_size=BLOCK,
                           encoding="utf8" if enc.lower() in ("utf-8", "utf8") else enc)
    po = pacsv.ParseOptions(delimiter=dialect.delimiter, quote_char=dialect.quotechar or False,
                            double_quote=bool(dialect.doublequote), newlines_in_values=True)
    co = pacsv.ConvertOptions(column_types={h: pa.string() for h in header}, strings_can_be_null=False,
                              quoted_strings_can_be_null=False)
    try:
        reader = pacsv.open_csv(path, read_options=ro, parse_options=po, convert_options=co)
        buf, n = [], 0
        for b in reader:
            buf.append(b)
            n += b.num_rows
            if n >= CHUNK:
                yield pa.Table.from_batches(buf)
                buf, n = [], 0
        if buf:
            yield pa.Table.from_batches(buf)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise Fallback(f"arrow csv: {exc}") from None


def _chunks(path, enc, dialect, header, start):
    """(record numbers, {column: numpy object array of str}, {column: arrow string array}) of the
    non-blank rows, in chunks."""
    import pyarrow.compute as pc

    no = 0
    for t in _batches(path, enc, dialect, header, start):
        blank = None
        for name in header:
            b = pc.equal(pc.utf8_trim_whitespace(t.column(name)), "")
            blank = b if blank is None else pc.and_(blank, b)
        keep = pc.invert(blank)
        if not pc.all(keep).as_py():
            t = t.filter(keep)
        acols = {name: t.column(name).combine_chunks() for name in header}
        n = t.num_rows
        nos = np.arange(no + 1, no + n + 1)
        no += n
        if n:
            yield nos, _LazyCols(acols), acols


class _LazyCols(dict):
    """{column: numpy object array of str}, converted from arrow on first use."""

    def __init__(self, acols):
        super().__init__()
        self.acols = acols

    def __missing__(self, name):
        v = self.acols[name].to_numpy(zero_copy_only=False)
        self[name] = v
        return v

    def __contains__(self, name):
        return name in self.acols


# ---------------------------------------------------------------- conversion (per column, memoised)

def _footprint(target):
    if target == "size":
        return _SIZE_KEYS | {"size"}
    if target == "cover":
        return {"cover_size"}
    return {target}


def column_groups(colmap):
    """Columns whose converted values touch the same fields are converted together."""
    groups = []
    for col, target in colmap.items():
        fp = _footprint(target)
        hit = [g for g in groups if g[1] & fp]
        cols = [col]
        for g in hit:
            cols = g[0] + cols
            fp = fp | g[1]
            groups.remove(g)
        order = list(colmap)
        groups.append((sorted(cols, key=order.index), fp))
    return [g[0] for g in groups]


class Converter:
    """validate._convert, column group by column group, memoised on the distinct values."""

    def __init__(self, colmap, vmap):
        m = schema.model()
        self.pfields = {f.name: f for f in m.layer(POINT).fields}
        self.sfields = {f.name: f for f in m.layer(SEGMENT).fields}
        self.allf = {**self.sfields, **self.pfields}
        self.colmap, self.vmap = colmap, vmap
        self.groups = column_groups(colmap)
        self.memo = [dict() for _ in self.groups]
        self.colpos = {c: i for i, c in enumerate(colmap)}
        self.nulls = list(mapping._null_set())

    def _fast(self, col, acol):
        """(mask of rows converted here, their values) for plain numbers and plain text."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if acol is None:
            return None, None
        target = self.colmap[col]
        f = self.allf.get(target)
        n = len(acol)
        if target in ("east", "north", "top_elev", "invert_elev") or (
                f is not None and f.type == "real" and not f.domain and target not in ("source", "updated_at")):
            ok = np.asarray(pc.match_substring_regex(acol, _PLAIN_NUM)).copy()
            x = np.full(n, np.nan)
            if ok.any():
                x[ok] = np.asarray(pc.cast(acol.filter(pa.array(ok)), pa.float64()))
            if f is not None and target not in ("east", "north", "top_elev", "invert_elev"):
                lo, hi = f.min, f.max
                with np.errstate(invalid="ignore"):
                    bad = np.zeros(n, bool)
                    if lo is not None:
                        bad |= x < lo
                    if hi is not None:
                        bad |= x > hi
                    if f.name in set(mapping.check_value("positive_only")):
                        bad |= x <= 0
                ok &= ~bad
            return ok, x
        if target == "connect" or (f is not None and f.type == "text" and not f.domain
                                   and target not in ("source", "updated_at")):
            pat = r"^[!-~]+$" if target != "connect" else r"^[!-+\--:<-~]+$"  # no ',', ';' or space
            ok = np.asarray(pc.match_substring_regex(acol, pat)) & \
                ~np.asarray(pc.is_in(acol, value_set=pa.array(self.nulls, pa.string())))
            return ok, None
        return None, None

    def convert(self, cols, n, acols=None, skip=()):
        """{key: (values, present)} of vals, {key: values} of extra, problems per row (lists or None).

        Columnar: plain numbers / ASCII text in bulk (arrow), everything else through the
        per-record converter once per distinct value (group of values), mapped back by codes."""
        import pandas as pd

        vals, extra = {}, {}
        probs = np.empty(n, dtype=object)
        for gi, group in enumerate(self.groups):
            if gi in skip:
                continue
            fast = fx = None
            if len(group) == 1 and acols is not None:
                fast, fx = self._fast(group[0], acols.get(group[0]))
            if fast is not None:
                col = group[0]
                target = self.colmap[col]
                okx = np.flatnonzero(fast)
                if target in ("east", "north", "top_elev", "invert_elev"):
                    out = extra.setdefault(target, np.full(n, np.nan))
                    out[okx] = fx[okx]
                elif target == "connect":
                    # one plain point number: the str itself stands for the list [str]
                    out = extra.setdefault("connect", np.empty(n, dtype=object))
                    out[okx] = cols[col][okx]
                elif fx is not None:
                    v, p = vals.setdefault(target, (np.empty(n, dtype=object), np.zeros(n, bool)))
                    v[okx] = fx[okx]
                    p[okx] = True
                else:
                    v, p = vals.setdefault(target, (np.empty(n, dtype=object), np.zeros(n, bool)))
                    v[okx] = cols[col][okx]
                    p[okx] = True
            todo = np.arange(n) if fast is None else np.flatnonzero(~fast)
            if not len(todo):
                continue
            if len(group) == 1:
                codes, uniq = pd.factorize(cols[group[0]][todo], use_na_sentinel=False)
                keys = list(uniq)
            else:
                comb = np.zeros(len(todo), np.int64)
                for c in group:
                    cc, uu = pd.factorize(cols[c][todo], use_na_sentinel=False)
                    comb = comb * (len(uu) + 1) + cc
                _, first, codes = np.unique(comb, return_index=True, return_inverse=True)
                codes = codes.ravel()
                keys = [tuple(cols[c][todo[f]] for c in group) for f in first]
            memo = self.memo[gi]
            res = []
            for k in keys:
                r = memo.get(k)
                if r is None:
                    rec = readers.Record(0, dict(zip(group, k if len(group) > 1 else (k,))))
                    r = validate._convert(rec, {c: self.colmap[c] for c in group}, self.pfields,
                                          self.sfields, self.vmap)
                    if len(memo) < 200_000:
                        memo[k] = r
                res.append(r)
            nd = len(res)
            dvals, dextra = {}, {}
            hasp = np.zeros(nd, bool)
            for d, (vv, ee, pp) in enumerate(res):
                for key, x in vv.items():
                    got = dvals.get(key)
                    if got is None:
                        got = dvals[key] = (np.empty(nd, dtype=object), np.zeros(nd, bool))
                    got[0][d] = x
                    got[1][d] = True
                for key, x in ee.items():
                    if key in ("east", "north", "top_elev", "invert_elev"):
                        got = dextra.get(key)
                        if got is None:
                            got = dextra[key] = np.full(nd, np.nan)
                        got[d] = np.nan if x is None else x
                    elif key == "connect":
                        got = dextra.get(key)
                        if got is None:
                            got = dextra[key] = np.empty(nd, dtype=object)
                        got[d] = x
                if pp:
                    hasp[d] = True
            for key, (dv, dp) in dvals.items():
                if key not in vals:
                    vals[key] = (np.empty(n, dtype=object), np.zeros(n, bool))
                v, p = vals[key]
                v[todo] = dv[codes]
                p[todo] = dp[codes]
            for key, dv in dextra.items():
                if key not in extra:
                    extra[key] = np.full(n, np.nan) if key != "connect" else np.empty(n, dtype=object)
                extra[key][todo] = dv[codes]
            for j in np.flatnonzero(hasp[codes]):
                i = todo[j]
                probs[i] = (probs[i] or []) + list(res[codes[j]][2])
        for i in np.flatnonzero(probs != None):  # noqa: E711 - object array
            probs[i].sort(key=lambda q: self.colpos.get(q.field, 0))
        return vals, extra, probs


# ---------------------------------------------------------------- the import

def eligible(path, fmt):
    return fmt in ("csv", "shp")


def _commit_batch(con, w, plan, meta, earlier):
    """End of a streamed import, in its transaction: the batch's layers and
    mapping; a repeat of an earlier batch rolls back (nothing changes),
    anything else is finished by the writer ``w`` and committed."""
    from . import batch as batchmod

    plan.target_layers = sorted({lyr for lyr, c in plan.by_layer.items() if c} | plan.reject_layers)
    meta["mapping_json"] = batchmod.mapping_json(plan)
    meta["duplicate_of"] = batchmod.duplicate_of(plan, meta["sha256"], meta["mapping_json"], earlier)
    if meta["duplicate_of"]:
        w.close()
        con.execute("ROLLBACK")
        return plan
    w.finish(plan, meta)
    con.execute("COMMIT")
    return plan


def _open_writer(project, model, meta):
    """(connection, writer) of the project, before its transaction: sqlite3 and ``_Writer`` for a
    GeoPackage, pg_stream's adapter and writer (transaction open, import lock held) for PostGIS.
    Fallback when the project holds pipes already."""
    from ..project import is_pg
    from . import batch as batchmod

    if is_pg(project):
        from . import pg_stream

        return pg_stream.open_writer(project, model, meta)
    con = batchmod._connect(project)
    for layer in (POINT, SEGMENT):
        if con.execute(f"SELECT EXISTS (SELECT 1 FROM {layer})").fetchone()[0]:
            con.close()
            raise Fallback("the project holds pipes: per-record path (updates by uid)")
    srs = {POINT: batchmod._srs(con, POINT), SEGMENT: batchmod._srs(con, SEGMENT)}
    defaults = {lyr: {f.name: f.default for f in model.layer(lyr).fields} for lyr in (POINT, SEGMENT)}
    fieldnames = {lyr: [f.name for f in model.layer(lyr).fields if f.name not in ("source", "updated_at")]
                  for lyr in (POINT, SEGMENT)}
    now = batchmod.now_iso()
    return con, _Writer(con, srs, fieldnames, defaults, meta["batch_id"], now)


def import_csv(project, path, user_map, crs_opt, project_crs, encoding, meta, earlier, progress=None,
               is_cancelled=None, default_name=None):
    """Plan and write one CSV point table in one transaction. Returns (plan-like, written)."""
    enc = encoding or detect_encoding_stream(path)
    if enc.lower() in ("utf-8-sig", "utf-16", "latin-1"):
        raise Fallback(enc)
    framing = _framing(path, enc)
    if framing is None:
        raise Fallback("no header")
    dialect, header, start = framing
    colmap = mapping.apply_mapping(header, user_map)
    targets = set(colmap.values())
    if not {"east", "north"} <= targets or {"start_uid", "end_uid"} & targets:
        raise Fallback("not a point table")
    crs_in = crs_opt or project_crs
    plan = StreamPlan(path, "csv", crs_in, enc, {"columns": colmap,
                                                 **{k: v for k, v in (user_map or {}).items() if k != "columns"}})
    plan.notes.append(f"encoding {enc}" + (" (forced)" if encoding else " (detected)"))
    if not crs_opt:
        plan.notes.append(f"the file has no CRS: read in the project's CRS {project_crs}")
    vmap = (user_map or {}).get("values") or {}
    conv = Converter(colmap, vmap)
    inv = {t: c for c, t in colmap.items()}

    def step(frac, msg):
        _trim_heap()
        if is_cancelled and is_cancelled():
            from . import Cancelled
            raise Cancelled("import cancelled; nothing was written")
        if progress:
            progress(frac, msg)

    # ---- pass A: point numbers and coordinates
    uid_col, e_col, n_col = inv.get("uid"), inv["east"], inv["north"]
    row_h = []
    sc = None
    decide = coords.TableCrs(crs_in)     # table_crs's X/Y and zone decision, from per-chunk counts
    any_xy = False
    for nos, cols, acols in _chunks(path, enc, dialect, header, start):
        n = len(nos)
        sub = {c: cols[c] for c in (uid_col, e_col, n_col) if c}
        if sc is None:
            sc = Converter({c: colmap[c] for c in sub}, vmap)
        v, ex, _ = sc.convert(sub, n, acols)
        uids = v["uid"][0] if uid_col else np.full(n, None, dtype=object)
        row_h.append(_hashes(uids))
        east, north = ex.get("east", np.full(n, np.nan)), ex.get("north", np.full(n, np.nan))
        have = np.isfinite(east) & np.isfinite(north)
        any_xy |= bool(have.any())
        decide.add(east[have], north[have])
        step(0.05, "reading")
    if not row_h:
        raise InputError("holds no records", file=path)
    uid_index = _PointIndex(row_h)
    del row_h
    row_uid = uid_index.row_ids
    used_crs = crs_in
    swapped = False   # the decision; pass B applies it to its own (same) coordinates, chunk by chunk
    if any_xy:
        swapped, used_crs, notes = decide.decide()
        plan.notes.extend(notes)
        plan.crs_in = used_crs
    npts = uid_index.n
    # per distinct point number: the accepted point (row), its geometry and values
    acc_row = np.full(npts, -1, np.int32 if len(row_uid) < 2**31 - 1 else np.int64)  # accepted record_no
    px_u, py_u = np.full(npts, np.nan), np.full(npts, np.nan)
    depth_u = np.full(npts, np.nan)
    # utility / subclass of the accepted point, as codes of ``coded`` (2 bytes a point, not an 8-byte reference)
    coded = _Codes()
    util_u = np.zeros(npts, np.int16)
    sub_u = np.zeros(npts, np.int16)
    rejected_u = np.zeros(npts, bool)
    row_ok = np.zeros(len(row_uid), bool)

    model = schema.model()
    con, w = _open_writer(project, model, meta)
    name_u = mapping.utility_from_name(default_name)
    forced_u = mapping.utility_of(user_map.get("utility"), vmap) if user_map and user_map.get("utility") else None
    user_sub = mapping.code_of("subclass", user_map["subclass"], vmap.get("subclass")) \
        if user_map and user_map.get("subclass") else None
    dfield = model.layer(POINT).field("depth")
    tees_want = mapping.check_value("tee_pipes")
    tee_list = []     # one (record nos, point ids, feature codes, uids) of arrays a chunk: see _packed_strs
    try:
        con.execute("BEGIN IMMEDIATE")
        w.begin()
        # ---- pass B: points
        off = 0
        for nos, cols, acols in _chunks(path, enc, dialect, header, start):
            n = len(nos)
            sl = slice(off, off + n)
            off += n
            vals, extra, probs = conv.convert(cols, n, acols)
            east, north = extra.get("east", np.full(n, np.nan)), extra.get("north", np.full(n, np.nan))
            hv = np.isfinite(east) & np.isfinite(north)
            if swapped:
                east, north = np.where(hv, north, east), np.where(hv, east, north)
            inside = coords.inside_area(east, north, used_crs)
            pxs, pys = coords.transform(np.where(inside, east, 0), np.where(inside, north, 0), used_crs,
                                        project_crs)
            in_project = coords.inside_area(pxs, pys, project_crs)
            geom_ok = hv & inside & in_project
            for i in np.flatnonzero(~geom_ok):
                p = probs[i] or []
                if not hv[i]:
                    if p:
                        continue
                    missing = [k for k in ("north", "east") if np.isnan(extra.get(k, [np.nan] * n)[i])]
                    p.append(Problem("missing_coordinates", ", ".join(inv[k] for k in missing)))
                else:
                    p.append(Problem("outside_crs_area", "X, Y", f"X {north[i]:.3f}, Y {east[i]:.3f}",
                                     used_crs if not inside[i] else f"{project_crs} (project)"))
                probs[i] = p
            # utility: column, mapping, point number, file name
            uv, up = vals.setdefault("utility", (np.empty(n, dtype=object), np.zeros(n, bool)))
            sv, sp = vals.setdefault("subclass", (np.empty(n, dtype=object), np.zeros(n, bool)))
            uids = vals["uid"][0] if "uid" in vals else np.full(n, None, dtype=object)
            for i in np.flatnonzero(~(uv.astype(bool))):
                for cand in (forced_u, mapping.utility_from_name(uids[i]), name_u):
                    if cand and cand[0]:
                        uv[i], up[i] = cand[0], True
                        if cand[1] and not sv[i]:
                            sv[i], sp[i] = cand[1], True
                        break
            if user_sub:
                for i in np.flatnonzero(~sv.astype(bool)):
                    sv[i], sp[i] = user_sub, True
            for i in np.flatnonzero(np.fromiter(map(isinstance, uv, itertools.repeat(tuple)), bool, n)):
                u = uv[i]
                uv[i] = u[0]
                if not sv[i]:
                    sv[i], sp[i] = u[1], True
            for i in np.flatnonzero(~uv.astype(bool)):
                p = probs[i] or []
                if not any(q.field and q.code == "unknown_code" for q in p):
                    p.append(Problem("missing_value", "utility"))
                probs[i] = p
            # depth from elevations
            dv, dp, _, done = _derive_depth(vals, extra, n)
            for i in done:
                try:
                    validate._check_range(dfield, dv[i], "depth")
                except Problem as q:
                    probs[i] = (probs[i] or []) + [q]
            if dp.any():
                vals["depth"] = (dv, dp)
            for i in np.flatnonzero(uids == None):  # noqa: E711
                if not probs[i]:
                    probs[i] = [Problem("missing_value", "uid")]
            # duplicates: the first problem-free record of a point number is the point
            ids = row_uid[sl]
            uid_index.verify(sl, uids)
            clean = np.fromiter(map(operator.not_, probs), bool, n)
            ci = np.flatnonzero(clean)
            kc = ids[ci]
            prev = acc_row[kc]
            _, fpos, inv_k = np.unique(kc, return_index=True, return_inverse=True)
            isfirst = np.zeros(len(ci), bool)
            isfirst[fpos] = True
            dup = (prev >= 0) | ~isfirst
            ref_rec = np.where(prev >= 0, prev, nos[ci[fpos]][inv_k.ravel()]) if len(ci) else prev
            for j in np.flatnonzero(dup):
                probs[ci[j]] = [Problem("duplicate_uid", "uid", uids[ci[j]], int(ref_rec[j]))]
            clean[ci[dup]] = False
            acc_row[kc[~dup]] = nos[ci[~dup]]
            row_ok[sl] = clean
            rejected_u[ids[~clean & (ids >= 0)]] = True
            acc = np.flatnonzero(clean)
            k = ids[acc]
            px_u[k], py_u[k] = pxs[acc], pys[acc]
            dd = vals.get("depth", (np.empty(n, dtype=object), None))[0][acc]
            depth_u[k] = _floats(dd)
            util_u[k] = coded.encode(uv[acc])
            sub_u[k] = coded.encode(sv[acc])
            if "feature" in vals and len(acc):
                import pandas as pd

                fv = vals["feature"][0]
                t = acc[pd.Series(fv[acc], dtype=object).isin(list(tees_want)).to_numpy()]
                if len(t):
                    tee_list.append((nos[t].astype(np.int64), ids[t].astype(np.int32), coded.encode(fv[t]),
                                     _packed_strs(uids[t])))
            # quarantine and write
            for i in np.flatnonzero(~clean):
                plan.reject(nos[i], POINT, probs[i], {h: cols[h][i] for h in header})
            pvals = {k2: v for k2, v in vals.items() if k2 in conv.pfields and k2 not in validate._SEGMENT_ONLY}
            w.rows(POINT, pvals, acc, _Straight(pxs[acc], pys[acc]), plan, nos=nos[acc])
            step(0.1 + 0.45 * off / len(row_uid), "points")
        # ---- pass C: connections
        seen = _KeySet()               # merged-duplicate keys of the segments so far
        ends = np.zeros(npts, np.int32)
        seg_cols = {k for k in conv.sfields if k not in validate._POINT_ONLY
                    and k not in ("uid", "status", "note", "acc_h", "acc_v", "survey_date")}
        deftab = mapping.config()["depth_ref_by_utility"]
        # pass C converts only the columns that segments use (problems are pass B's)
        drop = (validate._POINT_ONLY | {"east", "north"}) - {"ground_elev", "depth"}
        seg_skip = {gi for gi, g in enumerate(conv.groups)
                    if all(_footprint(colmap[c]) <= drop for c in g)}
        off = 0
        if "connect" in targets:
            for nos, cols, acols in _chunks(path, enc, dialect, header, start):
                n = len(nos)
                sl = slice(off, off + n)
                off += n
                vals, extra, _ = conv.convert(cols, n, acols, skip=seg_skip)
                conn = extra.get("connect")
                if conn is None:
                    continue
                ok = row_ok[sl]
                ids = row_uid[sl]
                # a str is one point number (Converter fast path), a list several (or none)
                iss = np.fromiter(map(isinstance, conn, itertools.repeat(str)), bool, n)
                isl = np.flatnonzero(np.fromiter(map(isinstance, conn, itertools.repeat(list)), bool, n))
                clen = iss.astype(np.int64)
                clen[isl] = [len(c) for c in conn[isl]]
                if not clen.any():
                    continue
                srow = np.repeat(np.arange(n), clen)
                first = np.cumsum(clen) - clen
                other = np.empty(int(clen.sum()), dtype=object)
                other[first[iss]] = conn[iss]
                for i in isl:
                    other[first[i]:first[i] + clen[i]] = conn[i]
                oid = uid_index.lookup(other)
                sid = ids[srow]
                start_ok = ok[srow]
                end_acc = (oid >= 0) & (acc_row[np.maximum(oid, 0)] >= 0) if npts else np.zeros(len(oid), bool)
                prob_rows = {}
                for j in np.flatnonzero(~start_ok | ~end_acc):
                    i = srow[j]
                    if not start_ok[j]:
                        uidv = None if sid[j] < 0 else _uid_of(uid_index, vals, i)
                        p = [Problem("unknown_point", "start_uid", uidv,
                                     "（该点记录已被拒收 / its point record was rejected）")]
                        u = util_of_row(vals, i)
                        if isinstance(u, tuple):
                            u = u[0]
                        if not u:   # the point's utility as pass B found it (mapping, number, file name)
                            for cand in (forced_u, mapping.utility_from_name(vals["uid"][0][i] if "uid" in vals
                                                                             else None), name_u):
                                if cand and cand[0]:
                                    u = cand[0]
                                    break
                        if not u:
                            p.append(Problem("missing_value", "utility"))
                    else:
                        why = "（该点记录已被拒收 / its point record was rejected）" \
                            if oid[j] >= 0 and rejected_u[oid[j]] else ""
                        p = [Problem("unknown_point", "end_uid", other[j], why)]
                    prob_rows[j] = p
                good = np.flatnonzero(start_ok & end_acc)
                a, b = sid[good], oid[good]
                lens = np.hypot(px_u[a] - px_u[b], py_u[a] - py_u[b])
                for j in good[lens <= 0]:
                    prob_rows[j] = [Problem("invalid_geometry", "geometry", None,
                                            "起点与终点重合 / start and end coincide")]
                # merged duplicates (A-B again, or B-A)
                # (point ids, unordered) as one int64 key; the first of a file keeps it
                cand = good[lens > 0]
                lo, hi = np.minimum(sid[cand], oid[cand]), np.maximum(sid[cand], oid[cand])
                key = lo.astype(np.int64) * max(npts, 1) + hi
                _, first = np.unique(key, return_index=True)
                fresh = np.zeros(len(cand), bool)
                fresh[first] = True
                fresh &= ~seen.has(key)
                seen.add(key[fresh])
                keep = cand[fresh]
                merged = int(len(cand) - fresh.sum())
                plan.counts["merged"] += merged
                plan.by_layer[SEGMENT] += merged
                for j in sorted(prob_rows):
                    i = srow[j]
                    raw = {h: cols[h][i] for h in header}
                    raw["_connect"] = other[j]
                    plan.reject(nos[i], SEGMENT, prob_rows[j], raw)
                if not len(keep):
                    continue
                ks, ke = sid[keep], oid[keep]
                np.add.at(ends, ks, 1)
                np.add.at(ends, ke, 1)
                ri = srow[keep]
                svals = {}
                for k2, (v, p) in vals.items():
                    if k2 in seg_cols:
                        svals[k2] = (v[ri], p[ri])
                m = len(keep)
                for k2 in ("status", "note", "survey_date"):
                    if k2 in vals:
                        v, p = vals[k2]
                        pres = p[ri] & (v[ri] != None)  # noqa: E711
                        svals[k2] = (v[ri], pres)
                util = coded.decode(util_u[ks])
                svals["utility"] = (util, np.ones(m, bool))
                svals["subclass"] = (coded.decode(sub_u[ks]), np.ones(m, bool))
                s_uids = vals["uid"][0][ri]
                e_uids = other[keep]
                svals["start_uid"] = (s_uids, np.ones(m, bool))
                svals["end_uid"] = (e_uids, np.ones(m, bool))
                ds, de = _objs(depth_u[ks]), _objs(depth_u[ke])
                svals["depth_start"] = (ds, np.ones(m, bool))
                svals["depth_end"] = (de, np.ones(m, bool))
                dr_v, dr_p = svals.get("depth_ref", (np.empty(m, dtype=object), np.zeros(m, bool)))
                dr_v, dr_p = dr_v.copy(), dr_p.copy()
                need = (dr_v == None) & ((ds != None) | (de != None))  # noqa: E711
                # depth_ref of the start point's row (elevation-derived depth), else mapping, else class
                row_ref = _derive_depth(vals, extra, n)[2][ri]
                nj = np.flatnonzero(need)
                if len(nj):
                    ref = row_ref[nj].copy()
                    mref = plan.mapping.get("depth_ref")
                    if mref:
                        ref[~ref.astype(bool)] = mref
                    miss = np.flatnonzero(~ref.astype(bool))
                    if len(miss):
                        import pandas as pd

                        codes, uq = pd.factorize(util[nj[miss]], use_na_sentinel=False)
                        tab = np.empty(len(uq), dtype=object)
                        tab[:] = [deftab.get(u, deftab["default"]) for u in uq]
                        ref[miss] = tab[codes]
                    dr_v[nj], dr_p[nj] = ref, True
                svals["depth_ref"] = (dr_v, dr_p)
                svals["uid"] = (s_uids + "-" + e_uids, np.ones(m, bool))
                geoms = _Straight(px_u[ks], py_u[ks], px_u[ke], py_u[ke])
                w.rows(SEGMENT, svals, np.arange(m), geoms, plan, nos=nos[ri])
                step(0.55 + 0.4 * off / len(row_uid), "connections")
        # ---- findings: tees with the wrong number of pipes
        dom = model.domain("point_feature")
        tmpl = mapping.config()["findings"]["tee_pipes"]
        for t_nos, t_ids, t_feat, t_uids in tee_list:
            want = np.array([tees_want[f] for f in coded.decode(t_feat)], np.int64)
            bad = np.flatnonzero(ends[t_ids] != want)
            uid_list = _unpack_strs(t_uids) if len(bad) else ()
            feats = coded.decode(t_feat)
            for j in bad:
                rec_no, uid, feat, found = int(t_nos[j]), uid_list[j], feats[j], int(ends[t_ids[j]])
                args = {"uid": uid, "feature_zh": dom.label(feat, "zh"), "feature_en": dom.label(feat, "en"),
                        "expected": tees_want[feat], "found": found}
                plan.findings.append({"finding": "tee_pipes", "record_no": rec_no, "uid": uid, "feature": feat,
                                      "expected": tees_want[feat], "found": found,
                                      "message_zh": tmpl[0].format(**args), "message_en": tmpl[1].format(**args)})
        # the per-point arrays and the last chunk go before the R-trees are packed (lower peak)
        acc_row = px_u = py_u = depth_u = util_u = sub_u = rejected_u = row_ok = row_uid = None
        ends = seen = uid_index = tee_list = None
        vals = extra = cols = acols = probs = conn = svals = geoms = other = None
        plan.records_in = plan.accepted + plan.rejected
        return _commit_batch(con, w, plan, meta, earlier)
    except BaseException:
        w.close()
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


_LIBC = []


def _trim_heap():
    """Give the C heap's free pages back to the system after a chunk (glibc ``malloc_trim``).

    A chunk's arrays are freed, but glibc keeps freed heap pages when a later, longer-lived
    allocation sits above them; over a million-row file that retained ~140 MB (the peak then
    grew with the file although nothing was kept). A no-op where there is no glibc."""
    if not _LIBC:
        try:
            import ctypes
            import ctypes.util

            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            fn = lib.malloc_trim
            fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
            _LIBC.append(fn)
        except (OSError, AttributeError):
            _LIBC.append(None)
    if _LIBC[0] is not None:
        _LIBC[0](0)


def _packed_strs(strs):
    """Strings kept for the end of an import as ONE str and their lengths: thousands of small
    str objects alive across chunks pin Python's small-object arenas (memory then grows with
    the file although the chunks are freed)."""
    strs = list(strs)
    return "".join(strs), np.fromiter(map(len, strs), np.int64, len(strs))


def _unpack_strs(packed):
    text, lens = packed
    ends = np.cumsum(lens)
    return [text[e - k:e] for e, k in zip(ends.tolist(), lens.tolist())]


class _Codes:
    """Small int16 codes of a few distinct values (utility, subclass), shared by all chunks."""

    def __init__(self):
        self.code = {}
        self.values = np.empty(0, dtype=object)

    def encode(self, vals):
        import pandas as pd

        if not len(vals):
            return np.zeros(0, np.int16)
        codes, uniq = pd.factorize(np.asarray(vals, dtype=object), use_na_sentinel=False)
        m = np.array([self.code.setdefault(u, len(self.code)) for u in uniq], np.int64)
        if len(self.code) > len(self.values):
            if len(self.code) > 32000:
                raise Fallback("too many distinct utilities / subclasses")
            self.values = np.empty(len(self.code), dtype=object)
            self.values[:] = list(self.code)
        return m[codes].astype(np.int16)

    def decode(self, codes):
        return self.values[codes] if len(self.values) else np.full(len(codes), None, dtype=object)


class _KeySet:
    """A growing set of int64 keys, optionally each with an int64 value, as a few sorted runs
    (merged when they pile up): no re-sort of the whole set on every chunk. Keys are added once."""

    def __init__(self, with_values=False):
        self.runs = []            # (sorted keys, their values or None)
        self.with_values = with_values

    def get(self, keys):
        """(found mask, values: -1 where not found)."""
        found = np.zeros(len(keys), bool)
        vals = np.full(len(keys), -1, np.int64)
        for r, v in self.runs:
            pos = np.minimum(np.searchsorted(r, keys), len(r) - 1)
            hit = r[pos] == keys
            found |= hit
            if v is not None:
                vals[hit] = v[pos[hit]]
        return found, vals

    def has(self, keys):
        return self.get(keys)[0]

    def add(self, keys, values=None):
        if not len(keys):
            return
        k, first = np.unique(keys, return_index=True)
        self.runs.append((k, np.asarray(values, np.int64)[first] if self.with_values else None))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            (kb, vb), (ka, va) = self.runs.pop(), self.runs.pop()
            kk = np.concatenate([ka, kb])
            o = np.argsort(kk, kind="stable")
            self.runs.append((kk[o], np.concatenate([va, vb])[o] if self.with_values else None))


_HKEYS = ("rp-point-index-1", "rp-point-index-2")


def _hashes(uids, key=_HKEYS[0]):
    """64-bit hashes (int64) of point numbers; -1 marks None (a string's hash is never -1 here)."""
    import pandas as pd

    out = np.full(len(uids), -1, np.int64)
    have = np.flatnonzero(uids != None)  # noqa: E711 - object array
    if len(have):
        h = pd.util.hash_array(uids[have], hash_key=key, categorize=True).view(np.int64)
        h[h == -1] = -2
        out[have] = h
    return out


class _PointIndex:
    """Point number -> dense id, without a dict: the sorted distinct 64-bit hashes of the numbers
    (8 bytes a point) searched with np.searchsorted. A second, independent 64-bit hash per point
    guards against collisions: pass B records it for every point and refuses to stream (Fallback)
    a file where two numbers share the first hash; a lookup whose second hash differs is 'unknown'."""

    def __init__(self, row_h):
        """``row_h``: the rows' hashes, one array a chunk (the list is emptied as it is read)."""
        if isinstance(row_h, np.ndarray):
            row_h = [row_h]
        allh = np.concatenate(row_h)
        allh.sort()
        keys = np.unique(allh)          # sorted already: unique is one pass
        del allh
        self.keys = keys[keys != -1]
        self.n = len(self.keys)
        ids = np.empty(sum(map(len, row_h)), np.int32)
        o = 0
        while row_h:
            h = row_h.pop(0)
            pos = np.searchsorted(self.keys, h)
            ids[o:o + len(h)] = np.where(h == -1, -1, pos)
            o += len(h)
        self.row_ids = ids
        self.check = np.zeros(self.n, np.int64)
        self.seen = np.zeros(self.n, bool)

    def verify(self, rows, uids):
        """Record / compare the second hashes of the point numbers ``uids`` of ``rows`` (pass B)."""
        ids = self.row_ids[rows]
        have = ids >= 0
        h2 = _hashes(uids[have], _HKEYS[1])
        k = ids[have]
        _, first = np.unique(k, return_index=True)
        new = np.zeros(len(k), bool)
        new[first] = True
        new &= ~self.seen[k]
        self.check[k[new]] = h2[new]
        self.seen[k[new]] = True
        if (self.check[k] != h2).any():
            raise Fallback("point number hash collision")

    def lookup(self, names):
        """Dense ids of ``names`` (object array of str), -1 where unknown."""
        out = np.full(len(names), -1, np.int64)
        if not self.n or not len(names):
            return out
        h = _hashes(names)
        pos = np.minimum(np.searchsorted(self.keys, h), self.n - 1)
        hit = (self.keys[pos] == h) & (h != -1)
        if hit.any():
            idx = np.flatnonzero(hit)
            ok = self.check[pos[idx]] == _hashes(names[idx], _HKEYS[1])
            out[idx[ok]] = pos[idx[ok]]
        return out


def _floats(objs):
    """Object array of float / None -> float64 with NaN for None."""
    out = np.full(len(objs), np.nan)
    have = objs != None  # noqa: E711 - object array
    if have.any():
        out[have] = objs[have].astype(float)
    return out


def _objs(x):
    """float64 -> object array of Python floats, None for NaN."""
    o = x.astype(object)
    o[np.isnan(x)] = None
    return o


def _uid_of(index, vals, i):
    return vals["uid"][0][i]


def util_of_row(vals, i):
    u = vals.get("utility", (None, None))[0]
    return None if u is None else u[i]


def _derive_depth(vals, extra, n):
    """Depths from ground - top / invert elevation where the table gives none (as _plan_points):
    (depth values, present, depth_ref per row, rows derived)."""
    dv, dp = vals.get("depth", (np.empty(n, dtype=object), np.zeros(n, bool)))
    dv, dp = dv.copy(), dp.copy()
    ref = np.empty(n, dtype=object)
    gv = vals.get("ground_elev", (np.empty(n, dtype=object), None))[0]
    top, inv_e = extra.get("top_elev"), extra.get("invert_elev")
    done = []
    for i in np.flatnonzero((dv == None) & (gv != None)):  # noqa: E711
        if top is not None and not np.isnan(top[i]):
            dv[i], dp[i], ref[i] = round(gv[i] - top[i], 4), True, "top"
        elif inv_e is not None and not np.isnan(inv_e[i]):
            dv[i], dp[i], ref[i] = round(gv[i] - inv_e[i], 4), True, "invert"
        else:
            continue
        done.append(i)
    return dv, dp, ref, done


class RejectSpool:
    """The rejects of a streamed import, list-like (len, iteration, ==, indexing), each pickled
    into one growing buffer as it comes and the buffer spilled to a temporary file beyond
    ``keep`` bytes. No reject stays behind as Python objects: thousands of small dicts and
    strings alive across the chunks would pin the allocator's arenas (memory then grows with the
    file) and a badly broken delivery would hold every rejected record. Order is kept."""

    _LEN = np.dtype("<u4")

    def __init__(self, keep=1 << 20):
        self.keep = keep
        self.buf = bytearray()
        self.file = None
        self.n = 0

    def append(self, r):
        import pickle

        b = pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL)
        self.buf += len(b).to_bytes(4, "little")
        self.buf += b
        self.n += 1
        if len(self.buf) >= self.keep:
            if self.file is None:
                import tempfile

                self.file = tempfile.TemporaryFile(prefix="rp-rejects-")
            self.file.seek(0, os.SEEK_END)
            self.file.write(self.buf)
            self.buf = bytearray()

    def __len__(self):
        return self.n

    def __bool__(self):
        return self.n > 0

    @staticmethod
    def _frames(data):
        import pickle

        pos, end = 0, len(data)
        while pos < end:
            k = int.from_bytes(data[pos:pos + 4], "little")
            yield pickle.loads(data[pos + 4:pos + 4 + k])
            pos += 4 + k

    def __iter__(self):
        if self.file is not None:
            self.file.flush()
            end = self.file.seek(0, os.SEEK_END)
            self.file.seek(0)
            left = b""
            done = 0
            while done < end:
                block = self.file.read(min(1 << 20, end - done))
                done += len(block)
                data = left + block
                # whole frames of this block; the rest waits for the next one
                pos = 0
                while pos + 4 <= len(data):
                    k = int.from_bytes(data[pos:pos + 4], "little")
                    if pos + 4 + k > len(data):
                        break
                    pos += 4 + k
                yield from self._frames(data[:pos])
                left = data[pos:]
        yield from self._frames(bytes(self.buf))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return list(self)[i]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return next(itertools.islice(iter(self), i, None))

    def __eq__(self, other):
        try:
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        except TypeError:
            return NotImplemented

    def __repr__(self):
        return f"RejectSpool({self.n} rejects)"


class StreamPlan:
    """What the summary and the report need of a plan, without holding the rows."""

    def __init__(self, file, fmt, crs_in, encoding, mapping_):
        self.file, self.fmt, self.crs_in, self.encoding, self.mapping = file, fmt, crs_in, encoding, mapping_
        self.records_in = 0
        self.findings, self.notes, self.target_layers = [], [], []
        self.rejects = RejectSpool()
        self.counts = {"insert": 0, "update": 0, "unchanged": 0, "merged": 0}
        self.by_layer = {POINT: 0, SEGMENT: 0}
        self.reject_layers = set()
        self.rows = ()

    def reject(self, record_no, layer, problems, raw):
        p = problems[0]
        zh, en = validate.reason_texts(p.code, p.field, p.value, p.detail)
        if len(problems) > 1:
            more = [validate.reason_texts(q.code, q.field, q.value, q.detail) for q in problems[1:]]
            zh += "；" + "；".join(m[0] for m in more)
            en += "; " + "; ".join(m[1] for m in more)
        self.reject_layers.add(layer)
        self.rejects.append({"record_no": int(record_no), "target_layer": layer, "field": p.field,
                             "value": None if p.value is None else str(p.value), "reason_code": p.code,
                             "reason_zh": zh, "reason_en": en, "raw": validate.raw_json(raw)})

    @property
    def accepted(self):
        return sum(self.by_layer.values())

    @property
    def rejected(self):
        return len(self.rejects)

    def count(self, action):
        return self.counts.get(action, 0)

    def accepted_in(self, layer):
        return self.by_layer.get(layer, 0)


def columns(names, vals, idx, defaults):
    """(names, arrays) of rows ``idx`` for the fields ``names``: each column of
    ``vals`` ({name: (values, present)}) with its default where absent, and
    columns with a default only; a field with neither is left out."""
    cols, data = [], []
    for name in names:
        d = defaults.get(name)
        if name in vals:
            v, p = vals[name]
            v, p = v[idx], p[idx]
            if d is not None and not p.all():
                v = v.copy()
                v[~p] = d
            cols.append(name)
            data.append(v)
        elif d is not None:
            cols.append(name)
            data.append(np.full(len(idx), d, dtype=object))
    return cols, data


class _Writer:
    """Rows into the project inside the caller's transaction; R-tree filled in bulk."""

    def __init__(self, con, srs, fieldnames, defaults, batch_id, now):
        self.con, self.srs, self.fieldnames, self.defaults = con, srs, fieldnames, defaults
        self.batch_id, self.now = batch_id, now
        self.saved = {}
        self.inserted = {POINT: 0, SEGMENT: 0}
        self._ends = None

    def begin(self):
        import tempfile

        # R-tree entries wait in two temporary files a layer (Morton keys; fid and box), not in memory
        self.rt = {layer: (tempfile.TemporaryFile(prefix="rp-rtree-"), tempfile.TemporaryFile(prefix="rp-rtree-"))
                   for layer in (POINT, SEGMENT)}
        for layer in (POINT, SEGMENT):
            trig = [f"rtree_{layer}_geom_insert", f"trigger_insert_feature_count_{layer}"]
            for name in trig:
                row = self.con.execute("SELECT sql FROM sqlite_master WHERE type='trigger' AND name=?",
                                       (name,)).fetchone()
                if row:
                    self.saved[name] = row[0]
                    self.con.execute(f'DROP TRIGGER "{name}"')
        self.has_rows = {layer: self.con.execute(f"SELECT EXISTS (SELECT 1 FROM {layer})").fetchone()[0]
                         for layer in (POINT, SEGMENT)}
        # the next fid of each layer, counted here: the inserts may still be running in sqlite_bulk's thread
        self.next_fid = {}
        for layer in (POINT, SEGMENT):
            seq = self.con.execute("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name=?), 0)",
                                   (layer,)).fetchone()[0]
            top = self.con.execute(f"SELECT COALESCE(MAX(fid), 0) FROM {layer}").fetchone()[0]
            self.next_fid[layer] = max(seq, top) + 1
        self.first_fid = dict(self.next_fid)
        from . import sqlite_bulk

        self.bulk = sqlite_bulk.Bulk(self.con)
        # columns whose DDL default is NULL: left out of an INSERT when a chunk has no value in them
        self.ddl_null = {layer: {r[1] for r in self.con.execute(f"PRAGMA table_info({layer})") if r[4] is None}
                         for layer in (POINT, SEGMENT)}

    def existing(self, layer, uids):
        """{uid: (fid, values, geometry)} of the project's rows with these uids."""
        if not self.has_rows[layer]:
            return {}
        self.bulk.wait()
        import json

        cols = self.fieldnames[layer]
        out = {}
        for r in self.con.execute(f"SELECT fid, geom, {', '.join(cols)} FROM {layer} WHERE uid IN "
                                  "(SELECT value FROM json_each(?))", (json.dumps(list(uids), default=str),)):
            v = dict(zip(cols, r[2:]))
            out[v["uid"]] = (r[0], v, gpkgblob.from_blob(r[1]))
        return out

    def existing_ends(self, uid):
        if not self.has_rows[SEGMENT]:
            return 0
        raise Fallback("project segments")

    def rows(self, layer, vals, idx, geoms, plan, nos=None):
        """Insert / update / unchanged decisions and writes for rows ``idx`` of ``vals``
        (``nos``: their record numbers, for pg_stream's owner check; not needed here)."""
        if not len(idx):
            return
        names = self.fieldnames[layer]
        uids = vals["uid"][0][idx]
        old = self.existing(layer, uids)
        if old:
            raise Fallback("update of existing rows")
        n = len(idx)
        cols, data = columns(names, vals, idx, self.defaults[layer])
        if isinstance(geoms, _Straight):
            blobs, b = geoms.blobs(self.srs[layer]), geoms.bounds()
        else:
            import shapely

            blobs, b = gpkgblob.to_blobs(geoms, self.srs[layer]), shapely.bounds(geoms)
        cols += ["source", "updated_at", "geom"]
        data += [np.full(n, self.batch_id, dtype=object), np.full(n, self.now, dtype=object), blobs]
        # fids: AUTOINCREMENT on tables only this transaction writes gives start .. start+n-1 (checked in finish)
        start = self.next_fid[layer] - 1
        self.next_fid[layer] += n
        if not self.bulk.insert(layer, cols, data):
            _insert(self.con, layer, cols, [_pycol(v) if isinstance(v, np.ndarray) else
                                            v if isinstance(v, list) else v.to_pylist() for v in data],
                    self.ddl_null[layer])
        # R-tree entries wait in a temp table with a Morton key and go in spatially sorted at the end
        # (an R-tree fed in spatial order touches few nodes per insert: much faster than file order)
        key = _morton((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
        rec = np.empty(n, _RT)
        rec["id"] = np.arange(start + 1, start + 1 + n, dtype=np.int64)
        rec["box"] = b[:, [0, 2, 1, 3]]
        kf, df = self.rt[layer]
        kf.write(np.ascontiguousarray(key, np.int64).tobytes())
        df.write(rec.tobytes())
        self.inserted[layer] += n
        plan.counts["insert"] += n
        plan.by_layer[layer] += n

    def close(self):
        """Wait for the chunk being written and release the bulk writer (also on errors)."""
        bulk = getattr(self, "bulk", None)
        if bulk is not None:
            bulk.close()

    def finish(self, plan, meta):
        from . import batch as batchmod

        con = self.con
        self.bulk.wait()
        _trim_heap()        # the caller has just let go of its per-point arrays
        for layer in (POINT, SEGMENT):
            seq = con.execute("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name=?), 0)",
                              (layer,)).fetchone()[0]
            if self.inserted[layer] and seq != self.next_fid[layer] - 1:
                raise RuntimeError(f"{layer}: last fid {seq}, expected {self.next_fid[layer] - 1}")
        from . import rtree_bulk

        for layer in (POINT, SEGMENT):
            # the layer was empty (else Fallback): its R-tree is packed from the sorted entries
            loader = rtree_bulk.Loader(con, f"rtree_{layer}_geom", self.bulk,
                                       (self.first_fid[layer], self.next_fid[layer] - 1))
            kf, df = self.rt[layer]
            kf.flush()
            df.flush()
            kf.seek(0)
            order = np.argsort(np.frombuffer(kf.read(), np.int64), kind="stable")
            if len(order):
                mm = np.memmap(df, dtype=_RT, mode="r")
                step = rtree_bulk.MAXCELLS * 2000
                for i in range(0, len(order), step):
                    a = mm[order[i:i + step]]
                    box = a["box"]
                    loader.add(a["id"], box[:, 0], box[:, 1], box[:, 2], box[:, 3])
                del mm
            del order
            kf.close()
            df.close()
            loader.finish()
        self.close()
        for name, sql in self.saved.items():
            con.execute(sql)
        for layer in (POINT, SEGMENT):
            if self.inserted[layer]:
                con.execute("UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? "
                            "WHERE lower(table_name) = lower(?)", (self.inserted[layer], layer))
                con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (self.now, layer))
        con.execute(f"INSERT INTO {batchmod.BATCH} (batch_id, file_name, sha256, uploaded_by, started_at, "
                    "finished_at, target_layer, crs_in, encoding, records_in, accepted, rejected, "
                    "updated, unchanged, mapping) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (meta["batch_id"], meta["file_name"], meta["sha256"], meta["uploaded_by"],
                     meta["started_at"], self.now, ",".join(plan.target_layers), plan.crs_in,
                     plan.encoding, plan.records_in, plan.accepted, plan.rejected,
                     plan.count("update"), plan.count("unchanged"), meta["mapping_json"]))
        if plan.rejects:
            con.executemany(f"INSERT INTO {batchmod.REJECT} (batch_id, record_no, target_layer, field, value, "
                            "reason_code, reason_zh, reason_en, raw) VALUES (?,?,?,?,?,?,?,?,?)",
                            ((meta["batch_id"], r["record_no"], r["target_layer"], r["field"], r["value"],
                              r["reason_code"], r["reason_zh"], r["reason_en"], r["raw"]) for r in plan.rejects))
        for t in (batchmod.BATCH, batchmod.REJECT):
            con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (self.now, t))


_RT = np.dtype([("id", "<i8"), ("box", "<f8", (4,))])   # fid, minx maxx miny maxy
_HDR = gpkgblob.HEADER


class _Straight:
    """Points (x0, y0) or two-point lines (x0, y0)-(x1, y1) as GeoPackage blobs built in numpy:
    the bytes shapely.to_wkb and gpkgblob.to_blobs give (header with envelope, little-endian WKB), without
    making shapely geometries. Coordinates are finite (the callers checked)."""

    def __init__(self, x0, y0, x1=None, y1=None):
        self.c = [np.ascontiguousarray(v, np.float64) for v in (x0, y0, x1, y1) if v is not None]

    def __len__(self):
        return len(self.c[0])

    def bounds(self):
        """(n, 4) minx, miny, maxx, maxy as shapely.bounds."""
        if len(self.c) == 2:
            x, y = self.c
            return np.column_stack([x, y, x, y])
        x0, y0, x1, y1 = self.c
        return np.column_stack([np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1)])

    def blobs(self, srs_id):
        import pyarrow as pa

        n = len(self)
        b = self.bounds()
        line = len(self.c) == 4
        wkb = np.dtype([("order", "u1"), ("type", "<u4")] + ([("npts", "<u4")] if line else [])
                       + [("xy", "<f8", (4 if line else 2,))])
        rec = np.dtype([("hdr", _HDR), ("wkb", wkb)])
        a = np.empty(n, rec)
        h = a["hdr"]
        h["magic"], h["version"], h["flags"], h["srs"] = b"GP", 0, 0b0000_0011, srs_id
        h["env"] = b[:, [0, 2, 1, 3]]
        w = a["wkb"]
        w["order"] = 1
        if line:
            w["type"], w["npts"] = 2, 2
            w["xy"][:, 0], w["xy"][:, 1], w["xy"][:, 2], w["xy"][:, 3] = self.c
        else:
            w["type"] = 1
            w["xy"][:, 0], w["xy"][:, 1] = self.c
        k = rec.itemsize
        offsets = np.arange(0, (n + 1) * k, k, dtype=np.int32)
        return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(a.tobytes())])


def _morton(x, y, cell=8.0):
    """Z-order key of points on a ``cell`` grid (21 bits a coordinate, wrapping)."""
    def spread(v):
        v = v & 0x1FFFFF
        v = (v | (v << 32)) & 0x1F00000000FFFF
        v = (v | (v << 16)) & 0x1F0000FF0000FF
        v = (v | (v << 8)) & 0x100F00F00F00F00F
        v = (v | (v << 4)) & 0x10C30C30C30C30C3
        v = (v | (v << 2)) & 0x1249249249249249
        return v

    with np.errstate(invalid="ignore"):
        xi = np.nan_to_num(np.floor(x / cell)).astype(np.int64).astype(np.uint64)
        yi = np.nan_to_num(np.floor(y / cell)).astype(np.int64).astype(np.uint64)
    k = spread(xi) | (spread(yi) << np.uint64(1))
    return (k >> np.uint64(1)).astype(np.int64)


_PLAIN_TYPES = {str, float, int, bool, type(None), bytes}


def _insert(con, table, cols, data, ddl_null):
    """``executemany`` of the columns ``cols`` (lists ``data``, one value a row), binding only what varies.

    sqlite3 spends most of a bulk insert binding parameters (about 0.4 us each): a column that is
    NULL in every row (and NULL by default) is left out, and one that holds the same text in every
    row is written as a SQL literal. The stored values are the same.
    """
    names, exprs, bound = [], [], []
    for name, v in zip(cols, data):
        first = v[0]
        if v.count(first) == len(v):
            if first is None and name in ddl_null:
                continue
            if first is None or (type(first) is str and "\0" not in first):   # only a str equals a str
                names.append(name)
                exprs.append("NULL" if first is None else "'" + first.replace("'", "''") + "'")
                continue
        names.append(name)
        exprs.append("?")
        bound.append(v)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(exprs)})"
    if bound:
        con.executemany(sql, zip(*bound))
    else:
        con.executemany(sql, itertools.repeat((), len(data[0])))


def _pycol(v):
    """A column as a list sqlite3 binds (NaN binds as NULL; numpy scalars as Python ones)."""
    from .batch import _py

    lst = v.tolist()
    if v.dtype != object or set(map(type, lst)) <= _PLAIN_TYPES:
        return lst
    return [_py(x) for x in lst]


# ---------------------------------------------------------------- shapefiles of pipe lines

_GTYPES = ["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
           "GeometryCollection"]


def import_file(project, path, fmt, *a, **k):
    """The streamed import of one file (``fmt`` 'csv' or 'shp'); Fallback when it does not apply."""
    return import_csv(project, path, *a, **k) if fmt == "csv" else import_shp(project, path, *a, **k)


def _shp_batches(path, enc, columns):
    """(record numbers, {column: numpy object array of Python values}, geometries) in chunks."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import shapely
    from pyogrio.raw import open_arrow

    no = 0
    with open_arrow(path, encoding=enc, batch_size=CHUNK, use_pyarrow=True) as (meta, reader):
        for b in reader:
            gcol = meta["geometry_name"] or "wkb_geometry"
            if gcol not in b.schema.names:
                gcol = b.schema.names[-1]
            n = b.num_rows
            if not n:
                continue
            cols = {}
            for c in columns:
                a = b.column(c)
                if pa.types.is_date(a.type) or pa.types.is_timestamp(a.type) or pa.types.is_time(a.type):
                    raise Fallback("date fields")
                if pa.types.is_floating(a.type) and pc.any(pc.is_nan(a)).as_py():
                    raise Fallback("NaN in a numeric field")
                v = np.empty(n, dtype=object)
                v[:] = a.to_pylist()
                cols[c] = v
            g = b.column(gcol)
            if g.null_count:
                raise Fallback("records without geometry")
            geoms = shapely.from_wkb(np.asarray(g.to_numpy(zero_copy_only=False), dtype=object))
            nos = np.arange(no + 1, no + n + 1)
            no += n
            yield nos, cols, geoms


def _line_geometries(g0, crs_from, crs_to):
    """validate._geometries for line records, vectorised: (geometries in crs_to, problems per row)."""
    import shapely

    n = len(g0)
    t = shapely.get_type_id(g0)
    g = g0.copy()
    one = (t >= 4) & (t <= 6) & (shapely.get_num_geometries(g0) == 1)
    if one.any():
        g[one] = shapely.get_geometry(g0[one], 0)
    ml = (shapely.get_type_id(g) == 5)
    if ml.any():
        merged = shapely.line_merge(g[ml])
        lm = shapely.get_type_id(merged) == 1
        idx = np.flatnonzero(ml)[lm]
        g[idx] = merged[lm]
    out, inside = coords.geometry_to_project(g, crs_from, crs_to)
    probs = np.empty(n, dtype=object)
    empty = shapely.is_empty(g)
    tg = shapely.get_type_id(g)
    xy, ix = shapely.get_coordinates(g, return_index=True)
    finite = np.ones(n, bool)
    np.logical_and.at(finite, ix, np.isfinite(xy).all(axis=1))
    first = np.full(n, -1)
    if len(ix):
        starts = np.flatnonzero(np.r_[True, ix[1:] != ix[:-1]])
        first[ix[starts]] = starts
    length = shapely.length(out)
    for i in np.flatnonzero(empty | (tg != 1) | ~finite | ~inside | ~(length > 0)):
        if empty[i]:
            p = Problem("invalid_geometry", "geometry", None, "empty / 空几何")
        elif tg[i] != 1:
            name = _GTYPES[tg[i]] if 0 <= tg[i] < len(_GTYPES) else str(tg[i])
            p = Problem("invalid_geometry", "geometry", name, f"{name}, expected LineString")
        elif not finite[i]:
            p = Problem("invalid_geometry", "geometry", None, "non-finite coordinates")
        elif not inside[i]:
            x, y = xy[first[i]]
            p = Problem("outside_crs_area", "geometry", f"{x:.3f}, {y:.3f}", crs_from)
        else:
            p = Problem("invalid_geometry", "geometry", None, "zero length / 长度为零")
        probs[i] = [p]
    return out, probs


def import_shp(project, path, user_map, crs_opt, project_crs, encoding, meta, earlier, progress=None,
               is_cancelled=None, default_name=None):
    """Plan and write one shapefile of pipe lines (pipe_segment) in one transaction, in chunks."""
    import hashlib

    import pyogrio
    import shapely

    enc, how = readers._shp_encoding(path, encoding)
    try:
        info = pyogrio.read_info(path, encoding=enc)
    except Exception:  # noqa: BLE001 - the per-record reader says what is wrong
        raise Fallback("unreadable") from None
    if info["geometry_type"] not in ("LineString", "MultiLineString") or not info["features"]:
        raise Fallback("not a line layer")
    src_crs = info["crs"]
    if not src_crs or not re.fullmatch(r"EPSG:\d+", src_crs):
        raise Fallback("CRS without an EPSG code")
    columns = [str(c) for c in info["fields"]]
    colmap = mapping.apply_mapping(columns, user_map)
    targets = set(colmap.values())
    if {"start_uid", "end_uid", "east", "north", "connect", "uid"} & targets:
        raise Fallback("point references or uids: per-record path")
    plan = StreamPlan(path, "shp", src_crs, enc, {"columns": colmap,
                                                  **{k: v for k, v in (user_map or {}).items() if k != "columns"}})
    plan.notes.append(f"encoding {enc}: {how}")
    if crs_opt and coords.crs(src_crs) != coords.crs(crs_opt):
        plan.notes.append(f"the file's CRS {src_crs} is used; --crs {crs_opt} is ignored")
    vmap = (user_map or {}).get("values") or {}
    conv = Converter(colmap, vmap)
    model = schema.model()
    sfields = conv.sfields
    layer_name = info.get("layer_name") or os.path.splitext(os.path.basename(path))[0]
    forced_u = mapping.utility_of(user_map.get("utility"), vmap) if user_map and user_map.get("utility") else None
    fmt_u = mapping.config().get("format_utility", {}).get("shp")
    cand_u = None
    for cand in (forced_u, mapping.utility_from_name(layer_name), mapping.utility_from_name(default_name),
                 (fmt_u, None) if fmt_u else None):
        if cand and cand[0]:
            cand_u = cand
            break
    user_sub = mapping.code_of("subclass", user_map["subclass"], vmap.get("subclass")) \
        if user_map and user_map.get("subclass") else None
    deftab = mapping.config()["depth_ref_by_utility"]
    digits = mapping.check_value("geometry_uid_digits")

    def step(frac, msg):
        _trim_heap()
        if is_cancelled and is_cancelled():
            from . import Cancelled
            raise Cancelled("import cancelled; nothing was written")
        if progress:
            progress(frac, msg)

    con, w = _open_writer(project, model, meta)
    total = max(int(info["features"]), 1)
    seen = _KeySet(with_values=True)   # uid keys (utility prefix, sha1 digits) of the accepted lines -> record no
    prefixes = {}
    try:
        con.execute("BEGIN IMMEDIATE")
        w.begin()
        for nos, cols, g0 in _shp_batches(path, enc, columns):
            n = len(nos)
            vals, extra, probs = conv.convert(cols, n)
            uv, up = vals.setdefault("utility", (np.empty(n, dtype=object), np.zeros(n, bool)))
            sv, sp = vals.setdefault("subclass", (np.empty(n, dtype=object), np.zeros(n, bool)))
            if cand_u:
                for i in np.flatnonzero(~(uv.astype(bool))):
                    uv[i], up[i] = cand_u[0], True
                    if cand_u[1] and not sv[i]:
                        sv[i], sp[i] = cand_u[1], True
            if user_sub:
                for i in np.flatnonzero(~sv.astype(bool)):
                    sv[i], sp[i] = user_sub, True
            for i in np.flatnonzero(np.fromiter(map(isinstance, uv, itertools.repeat(tuple)), bool, n)):
                u = uv[i]
                uv[i] = u[0]
                if not sv[i]:
                    sv[i], sp[i] = u[1], True
            clean = probs == None  # noqa: E711
            gi = np.flatnonzero(clean)
            geoms = np.empty(n, dtype=object)
            if len(gi):
                out, gp = _line_geometries(g0[gi], src_crs, project_crs)
                geoms[gi] = out
                for j in np.flatnonzero(gp != None):  # noqa: E711
                    probs[gi[j]] = gp[j]
            for i in np.flatnonzero(~uv.astype(bool)):
                p = probs[i] or []
                if not any(q.field and q.code == "unknown_code" for q in p):
                    p.append(Problem("missing_value", "utility"))
                probs[i] = p
            ok = np.array([not p for p in probs], bool)
            acc = np.flatnonzero(ok)
            # depth_ref where a depth is given and the file does not say
            if len(acc):
                dr_v, dr_p = vals.setdefault("depth_ref", (np.empty(n, dtype=object), np.zeros(n, bool)))
                ds = vals.get("depth_start", (np.empty(n, dtype=object), None))[0]
                de = vals.get("depth_end", (np.empty(n, dtype=object), None))[0]
                need = ok & (dr_v == None) & ((ds != None) | (de != None))  # noqa: E711
                ref = plan.mapping.get("depth_ref")
                for i in np.flatnonzero(need):
                    dr_v[i], dr_p[i] = ref or deftab.get(uv[i], deftab["default"]), True
                # uid from the geometry (as validate._geom_uid), duplicates refused
                xy, ix = shapely.get_coordinates(geoms[acc], return_index=True)
                xy = np.round(xy, digits)
                bounds = np.searchsorted(ix, np.arange(len(acc) + 1))
                uids = np.empty(len(acc), dtype=object)
                keys = np.empty(len(acc), np.int64)
                for j, i in enumerate(acc):
                    pre = f"{uv[i] or 'L'}-L"
                    hx = hashlib.sha1(xy[bounds[j]:bounds[j + 1]].tobytes()).hexdigest()[:12]
                    uids[j] = pre + hx
                    keys[j] = (prefixes.setdefault(pre, len(prefixes)) << 48) | int(hx, 16)
                _, firsts = np.unique(keys, return_index=True)
                fresh = np.zeros(len(acc), bool)
                fresh[firsts] = True
                old, old_rec = seen.get(keys)
                fresh &= ~old
                first_rec = {}
                for j in np.flatnonzero(~fresh):
                    if old[j]:
                        rec0 = int(old_rec[j])
                    else:
                        rec0 = first_rec.get(keys[j])
                        if rec0 is None:
                            rec0 = int(nos[acc[np.flatnonzero(keys == keys[j])[0]]])
                            first_rec[keys[j]] = rec0
                    probs[acc[j]] = [Problem("duplicate_uid", "uid", uids[j], rec0)]
                    ok[acc[j]] = False
                seen.add(keys[fresh], nos[acc[fresh]])
                uid_v = np.empty(n, dtype=object)
                uid_v[acc] = uids
                vals["uid"] = (uid_v, np.zeros(n, bool))
                vals["uid"][1][acc] = True
                acc = np.flatnonzero(ok)
            for i in np.flatnonzero(~ok):
                raw = {c: cols[c][i] for c in columns}
                raw.setdefault("_geometry", g0[i].wkt[:5000] if g0[i] is not None else None)
                plan.reject(nos[i], SEGMENT, probs[i], raw)
            svals = {k: v for k, v in vals.items() if k in sfields and k not in validate._POINT_ONLY}
            w.rows(SEGMENT, svals, acc, geoms[acc], plan, nos=nos[acc])
            step(0.05 + 0.9 * int(nos[-1]) / total, "lines")
        plan.records_in = plan.accepted + plan.rejected
        if not plan.records_in:
            raise Fallback("no records")
        return _commit_batch(con, w, plan, meta, earlier)
    except BaseException:
        w.close()
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
