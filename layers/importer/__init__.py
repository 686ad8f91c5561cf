"""Utility uploads: read survey deliveries, validate, quarantine, write one batch per file.

``import_files(project, files, ...)`` is what the command line, the Processing
algorithm and the dock call. Every file becomes a batch (import_batch row);
every record is accepted or kept in import_reject with its reason; all
batches of one call are written in ONE transaction (all or nothing).
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field

from ..errors import InputError

__all__ = ["import_files", "plan_files", "commit_plan", "ImportPlan", "write_reports", "mapping_document",
           "save_mapping", "Cancelled"]


class Cancelled(InputError):
    pass


@dataclass
class ImportPlan:
    """What ``plan_files`` found, ready for ``commit_plan``: nothing written yet.

    ``plans``: one ``(validate.Plan, batch meta)`` per file, in file order;
    ``sources``: per file ``{"columns": [...], "samples": {column: first value}}``
    (what a mapping editor shows); ``fingerprint``: the state of the project's
    pipe and batch tables when planned (``commit_plan`` refuses a stale plan).
    """
    project: str
    files: list
    plans: list
    sources: list
    fingerprint: tuple
    options: dict = field(default_factory=dict)

    def summaries(self) -> list:
        """The summaries ``import_files`` would return (batch ids as planned)."""
        return [summary(p, m, written=not m["duplicate_of"]) for p, m in self.plans]


STREAM_MIN_BYTES = 20 << 20   # files from this size are streamed (stream=None)
PG_STREAM_MIN_BYTES = 1 << 20  # the same for a PostGIS project (its per-record path is far slower)


def import_files(project, files, layer="auto", mapping=None, crs=None, encoding=None, batch=None,
                 report=None, uploaded_by=None, progress=None, is_cancelled=None, stream=None):
    """Import ``files`` into ``project``; returns one summary dict per file (batch).

    ``layer``: 'auto', 'pipe_point' or 'pipe_segment' (records for another
    layer are refused with an InputError before anything is written).
    ``mapping``: a mapping file path or dict (mapping.load_mapping).
    ``crs``: CRS of files that carry none (default: the project's CRS).
    ``report``: a path (.html or .xlsx); both an HTML report and an XLSX of
    the rejects are written per batch.

    ``stream``: True streams a single CSV point table or shapefile of lines (chunked, vectorised,
    written as it goes inside one transaction; stream.py), None does so for
    files of STREAM_MIN_BYTES and more (PG_STREAM_MIN_BYTES into a PostGIS project: pg_stream.py),
    False never; files the streaming path does not take (e.g. a project that holds pipes
    already) are planned record by record.

    Same as ``commit_plan(plan_files(...))``.
    """
    if stream is not False:
        got = _import_streamed(project, files, layer, mapping, crs, encoding, batch, report, uploaded_by,
                               progress, is_cancelled, force=bool(stream))
        if got is not None:
            return got
    n = len([files] if isinstance(files, (str, os.PathLike)) else files)
    scale = n / (n + 1) if n else 1.0

    def plan_progress(frac, msg):
        if progress:
            progress(frac * scale, msg)

    def commit_progress(frac, msg):
        if progress:
            progress(scale + frac * (1 - scale) if frac < 1 else 1.0, msg)

    plan = plan_files(project, files, layer=layer, mapping=mapping, crs=crs, encoding=encoding, batch=batch,
                      uploaded_by=uploaded_by, progress=plan_progress, is_cancelled=is_cancelled)
    return commit_plan(plan, report=report, progress=commit_progress, is_cancelled=is_cancelled,
                       check_project=False)


def _import_streamed(project, files, layer, mapping, crs, encoding, batch, report, uploaded_by, progress,
                     is_cancelled, force):
    """One file through stream.import_csv, or None (then the per-record path)."""
    from ..project import require_project
    from . import batch as batchmod
    from . import coords, readers, stream
    from . import mapping as mappingmod

    files = [files] if isinstance(files, (str, os.PathLike)) else list(files)
    if len(files) != 1 or layer not in (None, "auto"):
        return None
    store = _pg_store(project)     # PostGIS: pg_stream.py writes (a fresh project; else per-record)
    path = os.fspath(files[0])
    fmt = readers.FORMATS.get(os.path.splitext(path)[1].lower())
    if not os.path.isfile(path) or not stream.eligible(path, fmt):
        return None
    if not force and os.path.getsize(path) < (PG_STREAM_MIN_BYTES if store else STREAM_MIN_BYTES):
        return None
    project = project if store else os.path.abspath(project)
    info = require_project(project)
    project_crs = info.get("crs") or "EPSG:4547"
    user_map = mappingmod.load_mapping(mapping)
    if crs:
        coords.crs(crs)
    enc = encoding or user_map.get("encoding")
    if enc:
        import codecs

        try:
            codecs.lookup(enc)
        except LookupError:
            raise InputError(f"unknown encoding {enc!r} (--encoding); e.g. utf-8, GBK, GB18030", file=path) \
                from None
    earlier = (store or batchmod).existing_batches(project)
    sha = batchmod.file_sha256(path)
    meta = {"batch_id": _batch_id(batch, 0, 1, sha, set(earlier)), "file_name": os.path.basename(path),
            "sha256": sha, "uploaded_by": uploaded_by or _user(), "started_at": _now()}
    try:
        plan = stream.import_file(project, path, fmt, user_map, crs or user_map.get("crs"), project_crs, enc,
                                  meta, earlier, progress=progress, is_cancelled=is_cancelled,
                                  default_name=os.path.splitext(os.path.basename(path))[0])
    except stream.Fallback:
        return None
    s = summary(plan, meta, written=not meta["duplicate_of"])
    if report:
        from . import report as reportmod

        s["report"] = reportmod.write_report(report, plan, s)
    if progress:
        progress(1.0, "done")
    return [s]


def plan_files(project, files, layer="auto", mapping=None, crs=None, encoding=None, batch=None,
               uploaded_by=None, progress=None, is_cancelled=None, per_file=None) -> ImportPlan:
    """Read and validate ``files`` against ``project`` without writing anything.

    Arguments as ``import_files``; ``per_file``: ``{file path: {"mapping":,
    "crs":, "encoding":}}`` overriding the shared ``mapping`` / ``crs`` /
    ``encoding`` for single files (the dock's wizard edits them per file).
    ``progress(fraction, message)`` goes from 0 to 1 over the files.
    """
    from ..project import require_project
    from . import batch as batchmod
    from . import mapping as mappingmod
    from . import readers, validate

    if isinstance(files, (str, os.PathLike)):
        files = [files]
    files = [os.fspath(f) for f in files]
    if not files:
        raise InputError("no files to import")
    project = project if _pg_store(project) else os.path.abspath(project)  # PostGIS: pg_commit.py
    info = require_project(project)
    project_crs = info.get("crs") or "EPSG:4547"
    if layer not in (None, "auto", validate.POINT, validate.SEGMENT):
        raise InputError(f"--layer must be auto, {validate.POINT} or {validate.SEGMENT}", layer=layer)
    shared_map = mappingmod.load_mapping(mapping)
    per_file = {os.fspath(k): v for k, v in (per_file or {}).items()}
    from . import coords

    if crs:
        coords.crs(crs)  # InputError for an unknown CRS
    uploaded_by = uploaded_by or _user()
    fingerprint = project_fingerprint(project)
    state = (_pg_store(project) or batchmod).load_state(project)
    earlier = (_pg_store(project) or batchmod).existing_batches(project)
    taken = set(earlier)

    def step(frac, msg):
        if is_cancelled and is_cancelled():
            raise Cancelled("import cancelled; nothing was written")
        if progress:
            progress(frac, msg)

    plans, sources = [], []
    for i, path in enumerate(files):
        own = per_file.get(path) or {}
        user_map = mappingmod.load_mapping(own["mapping"]) if own.get("mapping") is not None else shared_map
        f_crs = own.get("crs") or crs
        if own.get("crs"):
            coords.crs(f_crs)
        f_enc = own.get("encoding") or encoding
        step(i / len(files), f"reading {os.path.basename(path)}")
        started = _now()
        src = readers.read(path, encoding=f_enc or user_map.get("encoding"))
        step((i + 0.5) / len(files), f"checking {os.path.basename(path)}")
        plan = validate.plan_source(src, user_map, f_crs or user_map.get("crs"), project_crs, state,
                                    default_name=os.path.splitext(os.path.basename(path))[0])
        if layer not in (None, "auto"):
            other = [t for t in plan.target_layers if t != layer]
            if other:
                raise InputError(f"holds {', '.join(other)} records but --layer {layer} was given",
                                 file=path, layer=layer)
        sha = batchmod.file_sha256(path)
        mjson = batchmod.mapping_json(plan)
        bid = _batch_id(batch, i, len(files), sha, taken)
        taken.add(bid)
        meta = {"batch_id": bid, "file_name": os.path.basename(path), "sha256": sha,
                "uploaded_by": uploaded_by, "started_at": started, "mapping_json": mjson}
        meta["duplicate_of"] = batchmod.duplicate_of(plan, sha, mjson, earlier)
        plans.append((plan, meta))
        sources.append({"columns": list(src.columns), "samples": _samples(src)})
    return ImportPlan(project, files, plans, sources, fingerprint,
                      {"layer": layer, "mapping": mapping, "crs": crs, "encoding": encoding, "batch": batch,
                       "per_file": per_file})


def commit_plan(plan: ImportPlan, report=None, progress=None, is_cancelled=None, check_project=True) -> list:
    """Write an ``ImportPlan`` (one transaction for all its files); returns the summaries.

    Refused (InputError, nothing written) when the project's pipe or batch
    tables changed since the plan was made: plan again. ``is_cancelled`` is
    asked up to the moment the transaction starts.
    """
    from . import batch as batchmod

    def step(frac, msg):
        if is_cancelled and is_cancelled():
            raise Cancelled("import cancelled; nothing was written")
        if progress:
            progress(frac, msg)

    if check_project and project_fingerprint(plan.project) != plan.fingerprint:
        raise InputError("the project changed since the import was planned; plan it again",
                         file=plan.project)
    plans = plan.plans
    step(0.0, "writing")
    to_write = [(p, m) for p, m in plans if not m["duplicate_of"]]
    if to_write:
        (_pg_store(plan.project) or batchmod).write_plans(plan.project, to_write)
    summaries = [summary(p, m, written=not m["duplicate_of"]) for p, m in plans]
    if report:
        from . import report as reportmod

        for s, (p, m) in zip(summaries, plans):
            s["report"] = reportmod.write_report(report, p, s, several=len(plans) > 1)
    if progress:
        progress(1.0, "done")
    return summaries


def write_reports(plan: ImportPlan, summaries, path) -> list:
    """HTML + XLSX report per batch of a committed plan (as ``import_files(report=path)``)."""
    from . import report as reportmod

    out = []
    for s, (p, _) in zip(summaries, plan.plans):
        out.extend(reportmod.write_report(path, p, s, several=len(plan.plans) > 1))
    return out


def project_fingerprint(project) -> tuple:
    """Row counts, largest fids and last changes of the tables an import reads and writes."""
    import sqlite3

    if _pg_store(project):
        return _pg_store(project).fingerprint(project)

    con = sqlite3.connect(f"file:{os.path.abspath(project)}?mode=ro", uri=True)
    try:
        out = []
        for table in ("pipe_point", "pipe_segment", "import_batch"):
            try:
                n, top = con.execute(f"SELECT count(*), max(fid) FROM {table}").fetchone()
            except sqlite3.Error:
                n = top = None
            row = con.execute("SELECT last_change FROM gpkg_contents WHERE table_name = ?", (table,)).fetchone()
            out.append((table, n, top, row[0] if row else None))
        return tuple(out)
    finally:
        con.close()


def _pg_store(project):
    """importer/pg_commit.py for a PostGIS project, else None."""
    from ..project import is_pg

    if is_pg(project):
        from . import pg_commit

        return pg_commit
    return None


def _samples(src) -> dict:
    """First non-empty value of every column (shown beside the mapping)."""
    from . import mapping as mappingmod

    out = {}
    for rec in src.records[:200]:
        for col in src.columns:
            if col not in out:
                v = rec.values.get(col)
                if not mappingmod.is_null(v):
                    out[col] = str(v)[:60]
        if len(out) == len(src.columns):
            break
    return out


def mapping_document(plan, columns=None, crs=None, encoding=None) -> dict:
    """The mapping file (``--mapping``) that reproduces ``plan``'s mapping: every source
    column with its target (None: ignored), the other mapping keys, the encoding and
    ``crs`` when given."""
    doc = {k: v for k, v in plan.mapping.items() if k != "columns" and v is not None}
    cols = dict(plan.mapping.get("columns") or {})
    full = {c: cols.get(c) for c in (columns or [])}
    full.update(cols)
    doc["columns"] = full
    if encoding or plan.encoding:
        doc["encoding"] = encoding or plan.encoding
    if crs:  # only a CRS the user chose: a detected one is detected again
        doc["crs"] = crs
    return doc


def save_mapping(path, doc) -> str:
    """Write a mapping document as YAML (UTF-8, readable Chinese)."""
    import yaml

    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(doc, fh, allow_unicode=True, sort_keys=False)
    return path


def summary(plan, meta, written=True) -> dict:
    return {
        "batch_id": meta["batch_id"] if written else meta["duplicate_of"],
        "file": plan.file, "file_name": meta["file_name"], "sha256": meta["sha256"],
        "written": written, "duplicate_of": meta["duplicate_of"],
        "target_layer": ",".join(plan.target_layers), "crs_in": plan.crs_in, "encoding": plan.encoding,
        "records_in": plan.records_in, "accepted": plan.accepted, "rejected": plan.rejected,
        "inserted": plan.count("insert"), "updated": plan.count("update"),
        "unchanged": plan.count("unchanged"), "merged": plan.count("merged"),
        "by_layer": {lyr: {"accepted": plan.accepted_in(lyr) if hasattr(plan, "accepted_in")
                           else sum(1 for r in plan.rows if r.layer == lyr),
                           "rejected": sum(1 for r in plan.rejects if r["target_layer"] == lyr)}
                     for lyr in plan.target_layers},
        "rejects": plan.rejects, "findings": plan.findings, "notes": plan.notes,
        "mapping": plan.mapping, "uploaded_by": meta["uploaded_by"],
    }


def summary_lines(s) -> list:
    head = f"{s['file_name']}: batch {s['batch_id']}"
    if not s["written"]:
        head += " (same file as before: nothing changed)"
    lines = [head,
             f"  records {s['records_in']}: accepted {s['accepted']} (new {s['inserted']}, updated "
             f"{s['updated']}, unchanged {s['unchanged']}, merged {s['merged']}), rejected {s['rejected']}",
             f"  layers {s['target_layer']}; CRS {s['crs_in']}; encoding {s['encoding']}"]
    from collections import Counter

    for code, n in sorted(Counter(r["reason_code"] for r in s["rejects"]).items()):
        lines.append(f"  rejected {code}: {n}")
    for f in s["findings"][:20]:
        lines.append(f"  finding: {f['message_en']}")
    for n in s["notes"]:
        lines.append(f"  note: {n}")
    if s.get("report"):
        lines.append(f"  report: {', '.join(s['report'])}")
    return lines


def _now():
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def _user():
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return None


def _batch_id(name, i, n, sha, taken):
    if name:
        bid = name if n == 1 else f"{name}-{i + 1}"
        if bid in taken:
            raise InputError(f"batch {bid!r} exists already in the project; choose another --batch name")
        return bid
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    bid = f"{stamp}-{sha[:8]}"
    k = 1
    while bid in taken:
        k += 1
        bid = f"{stamp}-{sha[:8]}-{k}"
    return bid
