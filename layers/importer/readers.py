"""Readers: every delivery format into one list of raw records.

A ``Source`` holds the records of one file in file order; each ``Record``
keeps the values as read (the raw record), the geometry in the file's CRS (or
None for tables) and, where the reader could not parse a record, the error
and the raw text: a record is never dropped by a reader.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, List, Optional

from ..errors import InputError, require
from . import mapping

FORMATS = {".gpkg": "gpkg", ".shp": "shp", ".geojson": "geojson", ".json": "geojson",
           ".dxf": "dxf", ".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
           ".inp": "inp"}


@dataclass
class Record:
    no: int
    values: dict
    geometry: Any = None
    error: Optional[str] = None
    layer_name: Optional[str] = None
    kind: Optional[str] = None          # 'point' / 'segment' when the format says so


@dataclass
class Source:
    path: str
    fmt: str
    records: List[Record] = field(default_factory=list)
    columns: List[str] = field(default_factory=list)
    crs: Optional[str] = None
    encoding: Optional[str] = None
    notes: List[str] = field(default_factory=list)
    is_table: bool = False


def read(path: str, encoding: str = None, layer_name: str = None) -> Source:
    if not os.path.exists(path):
        raise InputError("file not found", file=path)
    ext = os.path.splitext(path)[1].lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        raise InputError(f"unsupported file type {ext or '(none)'}; supported: "
                         f"{', '.join(sorted(FORMATS))}", file=path)
    if encoding:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r} (--encoding); e.g. utf-8, GBK, GB18030",
                             file=path) from None
    reader = {"gpkg": read_vector, "shp": read_vector, "dxf": read_vector,
              "geojson": read_geojson, "csv": read_csv, "xlsx": read_xlsx, "inp": read_inp}[fmt]
    src = reader(path, fmt, encoding)
    if not src.records:
        raise InputError("holds no records", file=path)
    return src


# ---------------------------------------------------------------- encodings

def detect_encoding(data: bytes) -> str:
    """'utf-8' when the bytes decode as UTF-8, else 'GB18030' (a superset of GBK / GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        return "latin-1"


_CPG = {"936": "GBK", "cp936": "GBK", "gbk": "GBK", "gb2312": "GB18030", "gb18030": "GB18030",
        "utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "ansi 936": "GBK", "ansi_936": "GBK"}


def _shp_encoding(path, forced):
    if forced:
        return forced, "forced (--encoding)"
    cpg = os.path.splitext(path)[0] + ".cpg"
    for cand in (cpg, os.path.splitext(path)[0] + ".CPG"):
        if os.path.isfile(cand):
            with open(cand, "rb") as fh:
                text = fh.read().decode("ascii", "replace").strip()
            enc = _CPG.get(text.casefold(), text)
            try:
                "".encode(enc)
                return enc, f".cpg says {text}"
            except LookupError:
                break
    dbf = os.path.splitext(path)[0] + ".dbf"
    if os.path.isfile(dbf):
        with open(dbf, "rb") as fh:
            data = fh.read()
        return detect_encoding(data[32:]), "detected from the .dbf text"
    return "utf-8", "default"


# ---------------------------------------------------------------- vector files

def _shape(geom):
    import shapely
    from shapely.geometry import shape

    if geom is None:
        return None
    g = shape(geom)
    return shapely.force_2d(g)


def read_vector(path: str, fmt: str, encoding: str = None) -> Source:
    fiona = require("fiona", feature="Importing GIS files")
    src = Source(path, fmt)
    opts = {}
    if fmt == "shp":
        enc, how = _shp_encoding(path, encoding)
        opts["encoding"] = enc
        src.encoding = enc
        src.notes.append(f"encoding {enc}: {how}")
    elif encoding:
        opts["encoding"] = encoding
        src.encoding = encoding
    env = {"DXF_INLINE_BLOCKS": "FALSE"} if fmt == "dxf" else {}
    n = 0
    try:
        with fiona.Env(**env):
            layers = fiona.listlayers(path)
            if fmt == "dxf":
                layers = ["entities"] if "entities" in layers else layers[-1:]
            for lyr in layers:
                with fiona.open(path, layer=lyr, **opts) as col:
                    if col.crs:
                        try:
                            src.crs = col.crs.to_string() or None
                        except Exception:  # noqa: BLE001
                            src.crs = col.crs_wkt or None
                    for name in col.schema["properties"]:
                        if name not in src.columns:
                            src.columns.append(name)
                    it = iter(col)
                    errors_in_a_row = 0
                    while True:
                        try:
                            feat = next(it)
                        except StopIteration:
                            break
                        except Exception as exc:  # noqa: BLE001 - a record the reader cannot parse
                            n += 1
                            errors_in_a_row += 1
                            src.records.append(Record(n, {"_raw": str(exc)}, error=str(exc),
                                                      layer_name=lyr))
                            if errors_in_a_row > 1000:
                                raise InputError(f"too many unreadable records: {exc}", file=path,
                                                 layer=lyr, record=n) from None
                            continue
                        errors_in_a_row = 0
                        n += 1
                        values = dict(feat.properties or {})
                        rec = Record(n, values, layer_name=lyr)
                        try:
                            rec.geometry = _shape(feat.geometry)
                        except Exception as exc:  # noqa: BLE001
                            rec.error = f"geometry: {exc}"
                            values["_raw_geometry"] = str(feat.geometry)[:2000]
                        if fmt == "dxf":
                            rec.layer_name = values.get("Layer") or lyr
                            _dxf_attributes(values)
                        src.records.append(rec)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - the file itself is unreadable
        raise InputError(f"cannot be read: {exc}".splitlines()[0], file=path, record=n + 1 if n else None) \
            from None
    return src


def _dxf_attributes(values):
    """Block attributes ('TAG value' strings) become columns (e.g. 点号 P12)."""
    attrs = values.get("BlockAttributes")
    if not attrs:
        return
    for item in attrs:
        parts = str(item).split(" ", 1)
        if len(parts) == 2 and parts[0] not in values:
            values[parts[0]] = parts[1]


def read_geojson(path: str, fmt: str, encoding: str = None) -> Source:
    """GeoJSON parsed feature by feature, so one broken feature is one reject."""
    with open(path, "rb") as fh:
        data = fh.read()
    enc = encoding or detect_encoding(data)
    try:
        doc = json.loads(data.decode(enc))
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"is not valid JSON: {exc}", file=path) from None
    src = Source(path, fmt, encoding=enc)
    feats = doc.get("features") if isinstance(doc, dict) else None
    if feats is None:
        raise InputError("is not a GeoJSON FeatureCollection", file=path)
    crs = (doc.get("crs") or {}).get("properties", {}).get("name")
    if crs:
        m = re.search(r"EPSG:+(\d+)", crs)
        src.crs = f"EPSG:{m.group(1)}" if m else crs
        if src.crs in ("EPSG:84",) or "CRS84" in crs:
            src.crs = "EPSG:4326"
    else:
        src.crs = "EPSG:4326"  # RFC 7946
    for i, feat in enumerate(feats, start=1):
        if not isinstance(feat, dict):
            src.records.append(Record(i, {"_raw": json.dumps(feat, ensure_ascii=False)},
                                      error="not a feature"))
            continue
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            props = {"_raw_properties": props}
        values = dict(props)
        for k in values:
            if k not in src.columns:
                src.columns.append(k)
        rec = Record(i, values)
        try:
            rec.geometry = _shape(feat.get("geometry"))
        except Exception as exc:  # noqa: BLE001
            rec.error = f"geometry: {exc}"
            values["_raw_geometry"] = json.dumps(feat.get("geometry"), ensure_ascii=False)[:2000]
        src.records.append(rec)
    return src


# ---------------------------------------------------------------- tables

def _find_header(rows):
    """(header index, column names, first data index) of a survey table's rows."""
    scan = mapping.check_value("header_scan_rows")
    need = mapping.check_value("header_min_hits")
    best, best_i = 0, None
    for i, row in enumerate(rows[:scan]):
        hits = mapping.header_hits(row)
        if hits > best:
            best, best_i = hits, i
    if best_i is None or best < need:
        return None, None, None
    header = [("" if c is None else str(c).strip()) for c in rows[best_i]]
    start = best_i + 1
    # a two-row header (merged cells: 坐标 over X / Y)
    if start < len(rows):
        sub = rows[start]
        hits = mapping.header_hits(sub)
        numeric = any(_is_number(c) for c in sub if c not in (None, ""))
        if hits >= 1 and not numeric:
            for j, c in enumerate(sub):
                if c not in (None, "") and mapping.normalise(c) in mapping.synonyms():
                    while len(header) <= j:
                        header.append("")
                    header[j] = str(c).strip()
            start += 1
    # blank or duplicate names get positional names
    seen = {}
    for j, h in enumerate(header):
        h = h or f"column_{j + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h}_{seen[h]}"
        else:
            seen[h] = 1
        header[j] = h
    return best_i, header, start


def _is_number(v) -> bool:
    if isinstance(v, (int, float)):
        return True
    try:
        float(str(v))
        return True
    except ValueError:
        return False


def _table_records(src: Source, rows, sheet=None, first_no=1):
    hi, header, start = _find_header(rows)
    if header is None:
        return None
    for name in header:
        if name not in src.columns:
            src.columns.append(name)
    n = first_no - 1
    for row in rows[start:]:
        if all(c is None or str(c).strip() == "" for c in row):
            continue  # a blank line is not a record
        n += 1
        values = {}
        for j, c in enumerate(row):
            key = header[j] if j < len(header) else f"column_{j + 1}"
            values[key] = c
        src.records.append(Record(n, values, layer_name=sheet))
    return n


def read_csv(path: str, fmt: str, encoding: str = None) -> Source:
    with open(path, "rb") as fh:
        data = fh.read()
    enc = encoding or detect_encoding(data)
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(f"cannot be decoded as {enc}: {exc}", file=path) from None
    src = Source(path, fmt, encoding=enc, is_table=True)
    src.notes.append(f"encoding {enc}" + (" (forced)" if encoding else " (detected)"))
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)  # a lone CR ends a line too
    try:
        rows = list(reader)
    except csv.Error as exc:  # e.g. a broken quote or a NUL byte: the file, not the program
        raise InputError(f"is not a readable table: {exc}", file=path, record=reader.line_num) from None
    if _table_records(src, rows) is None:
        raise InputError("no header row with known column names (物探点号, X, Y, 起点点号, …) "
                         "in the first rows; give a mapping file (--mapping)", file=path)
    return src


def read_xlsx(path: str, fmt: str, encoding: str = None) -> Source:
    openpyxl = require("openpyxl", feature="Importing Excel tables")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot be read as an Excel workbook: {exc}", file=path) from None
    src = Source(path, fmt, encoding="xlsx", is_table=True)
    n = 0
    try:
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            got = _table_records(src, rows, sheet=ws.title, first_no=n + 1)
            if got is None:
                if any(any(c not in (None, "") for c in r) for r in rows):
                    src.notes.append(f"sheet {ws.title!r} skipped: no known header row")
                continue
            n = got
    finally:
        wb.close()
    if not src.records:
        raise InputError("no sheet with a header row of known column names (物探点号, X, Y, "
                         "起点点号, …); give a mapping file (--mapping)", file=path)
    return src


# ---------------------------------------------------------------- EPANET

_INP_NODES = {"JUNCTIONS": ("elevation",), "RESERVOIRS": ("head",), "TANKS": ("elevation",)}
_INP_LINKS = {"PIPES", "VALVES", "PUMPS"}


def read_inp(path: str, fmt: str, encoding: str = None) -> Source:
    """EPANET network: nodes become points, pipes (valves, pumps) segments."""
    with open(path, "rb") as fh:
        data = fh.read()
    enc = encoding or detect_encoding(data)
    text = data.decode(enc, errors="replace")
    sections, order = {}, []
    section = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        body = line.split(";", 1)[0].strip()
        if not body:
            continue
        m = re.match(r"^\[(\w+)\]$", body)
        if m:
            section = m.group(1).upper()
            continue
        if section:
            sections.setdefault(section, []).append((lineno, body, line))
            order.append(section)
    units = "LPS"
    for _, body, _ in sections.get("OPTIONS", []):
        parts = body.split()
        if len(parts) >= 2 and parts[0].upper() == "UNITS":
            units = parts[1].upper()
    inches = units in [u.upper() for u in mapping.config().get("epanet_inch_units", [])]
    coords = {}
    for _, body, _ in sections.get("COORDINATES", []):
        p = body.split()
        try:
            coords[p[0]] = (float(p[1]), float(p[2]))
        except (IndexError, ValueError):
            pass
    vertices = {}
    for _, body, _ in sections.get("VERTICES", []):
        p = body.split()
        try:
            vertices.setdefault(p[0], []).append((float(p[1]), float(p[2])))
        except (IndexError, ValueError):
            pass
    from shapely.geometry import LineString, Point

    src = Source(path, fmt, encoding=enc)
    src.columns = ["uid", "start_uid", "end_uid", "diameter_mm", "note"]
    src.notes.append(f"EPANET units {units}: diameters read in {'inches' if inches else 'mm'}")
    n = 0
    for sec in ("JUNCTIONS", "RESERVOIRS", "TANKS"):
        for lineno, body, line in sections.get(sec, []):
            n += 1
            p = body.split()
            values = {"uid": p[0], "note": f"EPANET {sec[:-1].lower()}" +
                      (f", {_INP_NODES[sec][0]} {p[1]}" if len(p) > 1 else ""), "_line": line}
            rec = Record(n, values, layer_name=sec, kind="point")
            if p[0] in coords:
                rec.geometry = Point(coords[p[0]])
            src.records.append(rec)
    for sec in ("PIPES", "VALVES", "PUMPS"):
        for lineno, body, line in sections.get(sec, []):
            n += 1
            p = body.split()
            values = {"_line": line, "note": f"EPANET {sec[:-1].lower()}"}
            rec = Record(n, values, layer_name=sec, kind="segment")
            if len(p) < 3:
                rec.error = f"line {lineno}: a link needs an ID and two nodes"
                src.records.append(rec)
                continue
            values.update({"uid": p[0], "start_uid": p[1], "end_uid": p[2]})
            size_col = {"PIPES": 4, "VALVES": 3}.get(sec)
            if size_col is not None and len(p) > size_col:
                try:
                    d = float(p[size_col])
                    values["diameter_mm"] = round(d * 25.4, 1) if inches else d
                except ValueError:
                    values["diameter_mm"] = p[size_col]
            if p[1] in coords and p[2] in coords:
                rec.geometry = LineString([coords[p[1]]] + vertices.get(p[0], []) + [coords[p[2]]])
            src.records.append(rec)
    return src
