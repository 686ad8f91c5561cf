"""The ``renewal-planner`` command line (interfaces.md).

Exit status: 0 done; 1 ``--fail-on`` matched; 2 bad input or usage, with a
one-line reason on standard error.
"""
from __future__ import annotations

import argparse
import os
import sys

from .layers.errors import InputError, MissingDependency


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise InputError(f"usage: {message}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="renewal-planner", description="Renewal Planner / 城市更新规划助手")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("init", help="create an empty project: a GeoPackage, or a PostGIS schema "
                                    "(postgresql://user@host/db?schema=NAME)")
    s.add_argument("project")
    s.add_argument("--crs", default=None, help="projected CRS in metres (default EPSG:4547)")
    s.add_argument("--qgs", action="store_true", help="also write a QGIS project file beside it")

    s = sub.add_parser("demo", help="build the demo district project (with DEM)")
    s.add_argument("out_dir")
    s.add_argument("--seed", type=int, default=20261129)
    s = sub.add_parser("import", help="import survey deliveries (GeoPackage, Shapefile, GeoJSON, DXF, "
                                      "CSV/XLSX point or line tables, EPANET .inp) with validation")
    s.add_argument("project")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--layer", default="auto", help="pipe_point, pipe_segment or auto (default)")
    s.add_argument("--mapping", help="field mapping file (YAML/JSON: source header -> field)")
    s.add_argument("--crs", help="CRS of files that carry none (default: the project's CRS)")
    s.add_argument("--encoding", help="text encoding of tables and shapefiles (default: detected)")
    s.add_argument("--batch", help="batch name (default: time and file checksum)")
    s.add_argument("--report", help="write a report per batch: FILE.html and FILE.xlsx of the rejects")
    s.add_argument("--uploaded-by", help="who delivered the data (default: the current user)")

    s = sub.add_parser("check", help="run the conflict checks and merge the findings into the project")
    s.add_argument("project")
    s.add_argument("--rules", help="a local rules profile (YAML) over the national defaults")
    s.add_argument("--only", help="comma-separated rule ids")
    s.add_argument("--dem", help="DEM GeoTIFF for ground elevations (default: <project>_dem.tif if present)")
    s.add_argument("--area", help="check only this renovation area (uid)")
    s.add_argument("--csv", help="also write the findings to this CSV file")
    s.add_argument("--json", action="store_true", help="print the findings as JSON on standard output")
    s.add_argument("--certain-only", action="store_true", help="report certain findings only")
    s.add_argument("--fail-on", choices=["error", "warning"],
                   help="exit 1 when a finding of this severity or worse is reported")

    s = sub.add_parser("quantities", help="quantities per renovation area and community (XLSX or CSV)")
    s.add_argument("project")
    s.add_argument("--out", required=True, help="FILE.xlsx (a sheet per theme) or FILE.csv (one long table)")
    s.add_argument("--area", help="only this renovation area (uid)")

    s = sub.add_parser("review", help="per-owner review sheets (XLSX): export to the utilities, import back")
    rsub = s.add_subparsers(dest="review_command", required=True, parser_class=_Parser)
    r = rsub.add_parser("export", help="one findings_<owner>.xlsx per owner of the pipes involved")
    r.add_argument("project")
    r.add_argument("--out", required=True, help="folder for the workbooks")
    r.add_argument("--owner", help="comma-separated owners (default: every owner with findings)")
    r.add_argument("--include-resolved", action="store_true", help="also list resolved findings")
    r = rsub.add_parser("import", help="apply the review statuses and notes of a returned sheet")
    r.add_argument("project")
    r.add_argument("file", metavar="FILE.xlsx")
    r.add_argument("--reviewer", help="who reviewed, where the sheet's reviewer cell is not filled")

    s = sub.add_parser("grant", help="PostGIS only: create or update a database role with the rights of a "
                                     "viewer, a planner or one utility owner (row-level security)")
    s.add_argument("project")
    s.add_argument("--role", required=True, help="database role name (created if missing)")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--viewer", action="store_true", help="reads everything")
    g.add_argument("--planner", action="store_true", help="writes the plan layers, runs checks, reviews")
    g.add_argument("--utility", metavar="OWNER",
                   help="writes only pipe_point / pipe_segment rows whose owner is OWNER")

    from .tools.report import add_arguments as _report_arguments

    _report_arguments(sub.add_parser("report", help="findings report: PDF (cover, atlas page per open "
                                                    "finding, list), self-contained HTML, or XLSX"))
    return p


def cmd_init(args) -> int:
    from .layers import project

    path = project.init_project(args.project, crs=args.crs, write_qgs=args.qgs)
    print(f"created {path}")
    return 0


def cmd_demo(args) -> int:
    """Build the demo district, run every check on it, write the findings."""
    import csv

    from .tools import check, demo

    result = demo.build_demo(args.out_dir, seed=args.seed)
    for line in demo.summary_lines(result):
        print(line)
    project = result["project"]
    run, rows, counts = check.check_project(project, dem=result.get("dem"))
    out_csv = os.path.join(os.path.dirname(project), "findings.csv")
    with open(out_csv, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=check.CSV_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    print("checks:")
    for line in check.summary_lines(run, rows, counts):
        print("  " + line)
    found = {(r["rule_id"], r["uid_a"], r["uid_b"] or "") for r in rows}
    planted = result.get("planted") or []
    hit = sum((p["rule_id"], p["uid_a"], p.get("uid_b") or "") in found for p in planted)
    decoys = result.get("decoys") or []
    false = sum((d["rule_id"], d["uid_a"], d.get("uid_b") or "") in found for d in decoys)
    print(f"planted conflicts found: {hit} of {len(planted)}; decoys reported: {false} of {len(decoys)}")
    print(f"findings: {out_csv}")
    from .tools import quantities

    q = quantities.compute_quantities(project)
    q_path = quantities.write_quantities(q, os.path.join(os.path.dirname(project), "quantities.xlsx"))
    print("quantities:")
    for line in quantities.summary_lines(q):
        print("  " + line)
    print(f"  workbook: {q_path}")
    from .tools import report

    print("reports:")
    for ext in ("pdf", "html", "xlsx"):
        out = report.write_report(project, os.path.join(os.path.dirname(project), f"report.{ext}"))
        print(f"  {out['path']}")
    print(f"open in QGIS: {result.get('qgs') or project}")
    return 0


def cmd_check(args) -> int:
    from .tools import check

    return check.check_command(args)


def cmd_import(args) -> int:
    from .layers.importer import import_files, summary_lines

    for summary in import_files(args.project, args.files, layer=args.layer, mapping=args.mapping,
                                crs=args.crs, encoding=args.encoding, batch=args.batch,
                                report=args.report, uploaded_by=args.uploaded_by):
        for line in summary_lines(summary):
            print(line)
    return 0


def cmd_quantities(args) -> int:
    from .tools import quantities

    return quantities.quantities_command(args)


COMMANDS = {"init": cmd_init, "demo": cmd_demo, "check": cmd_check, "import": cmd_import}
COMMANDS["quantities"] = cmd_quantities


def cmd_review(args) -> int:
    from .tools import review

    return review.review_command(args)


COMMANDS["review"] = cmd_review


def cmd_report(args) -> int:
    from .tools import report

    return report.report_command(args)


COMMANDS["report"] = cmd_report


def cmd_grant(args) -> int:
    from .layers import pg
    from .layers.project import is_pg

    if not is_pg(args.project):
        raise InputError("grant works on a PostGIS project only (postgresql://user@host/db?schema=NAME)",
                         file=args.project)
    kind = "viewer" if args.viewer else "planner" if args.planner else "utility"
    print(pg.grant(args.project, args.role, kind, owner=args.utility))
    return 0


COMMANDS["grant"] = cmd_grant


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"renewal-planner: error: {exc}", file=sys.stderr)
        return 2
    except MissingDependency as exc:
        print(f"renewal-planner: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
