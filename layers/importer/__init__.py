"""Utility uploads: read survey deliveries, validate, quarantine, write one batch per file.

``import_files(project, files, ...)`` is what the command line, the Processing
algorithm and the dock call. Every file becomes a batch (import_batch row);
every record is accepted or kept in import_reject with its reason; all
batches of one call are written in ONE transaction (all or nothing).
"""
from __future__ import annotations

import datetime as _dt
import os

from ..errors import InputError

__all__ = ["import_files"]


class Cancelled(InputError):
    pass


def import_files(project, files, layer="auto", mapping=None, crs=None, encoding=None, batch=None,
                 report=None, uploaded_by=None, progress=None, is_cancelled=None):
    """Import ``files`` into ``project``; returns one summary dict per file (batch).

    ``layer``: 'auto', 'pipe_point' or 'pipe_segment' (records for another
    layer are refused with an InputError before anything is written).
    ``mapping``: a mapping file path or dict (mapping.load_mapping).
    ``crs``: CRS of files that carry none (default: the project's CRS).
    ``report``: a path (.html or .xlsx); both an HTML report and an XLSX of
    the rejects are written per batch.
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
    project = os.path.abspath(project)
    info = require_project(project)
    project_crs = info.get("crs") or "EPSG:4547"
    if layer not in (None, "auto", validate.POINT, validate.SEGMENT):
        raise InputError(f"--layer must be auto, {validate.POINT} or {validate.SEGMENT}", layer=layer)
    user_map = mappingmod.load_mapping(mapping)
    if crs:
        from . import coords

        coords.crs(crs)  # InputError for an unknown CRS
    uploaded_by = uploaded_by or _user()
    state = batchmod.load_state(project)
    earlier = batchmod.existing_batches(project)
    taken = set(earlier)

    def step(frac, msg):
        if is_cancelled and is_cancelled():
            raise Cancelled("import cancelled; nothing was written")
        if progress:
            progress(frac, msg)

    plans = []
    for i, path in enumerate(files):
        step(i / (len(files) + 1), f"reading {os.path.basename(path)}")
        started = _now()
        src = readers.read(path, encoding=encoding or user_map.get("encoding"))
        step((i + 0.5) / (len(files) + 1), f"checking {os.path.basename(path)}")
        plan = validate.plan_source(src, user_map, crs or user_map.get("crs"), project_crs, state,
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
        same = [b for b, e in earlier.items() if e["sha256"] == sha and e["mapping"] == mjson]
        changes = plan.count("insert") + plan.count("update")
        meta["duplicate_of"] = same[0] if same and changes == 0 else None
        plans.append((plan, meta))
    step(len(files) / (len(files) + 1), "writing")
    to_write = [(p, m) for p, m in plans if not m["duplicate_of"]]
    if to_write:
        batchmod.write_plans(project, to_write)
    summaries = [summary(p, m, written=not m["duplicate_of"]) for p, m in plans]
    if report:
        from . import report as reportmod

        for s, (p, m) in zip(summaries, plans):
            s["report"] = reportmod.write_report(report, p, s, several=len(plans) > 1)
    if progress:
        progress(1.0, "done")
    return summaries


def summary(plan, meta, written=True) -> dict:
    return {
        "batch_id": meta["batch_id"] if written else meta["duplicate_of"],
        "file": plan.file, "file_name": meta["file_name"], "sha256": meta["sha256"],
        "written": written, "duplicate_of": meta["duplicate_of"],
        "target_layer": ",".join(plan.target_layers), "crs_in": plan.crs_in, "encoding": plan.encoding,
        "records_in": plan.records_in, "accepted": plan.accepted, "rejected": plan.rejected,
        "inserted": plan.count("insert"), "updated": plan.count("update"),
        "unchanged": plan.count("unchanged"), "merged": plan.count("merged"),
        "by_layer": {lyr: {"accepted": sum(1 for r in plan.rows if r.layer == lyr),
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
