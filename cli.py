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

    s = sub.add_parser("init", help="create an empty project GeoPackage")
    s.add_argument("project")
    s.add_argument("--crs", default=None, help="projected CRS in metres (default EPSG:4547)")
    s.add_argument("--qgs", action="store_true", help="also write a QGIS project file beside it")

    s = sub.add_parser("demo", help="build the demo district project (with DEM)")
    s.add_argument("out_dir")
    s.add_argument("--seed", type=int, default=20261129)
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
    return p


def cmd_init(args) -> int:
    from .layers import project

    path = project.init_project(args.project, crs=args.crs, write_qgs=args.qgs)
    print(f"created {path}")
    return 0


def cmd_demo(args) -> int:
    from .tools import demo

    result = demo.build_demo(args.out_dir, seed=args.seed)
    for line in demo.summary_lines(result):
        print(line)
    return 0


def cmd_check(args) -> int:
    from .tools import check

    return check.check_command(args)


COMMANDS = {"init": cmd_init, "demo": cmd_demo, "check": cmd_check}


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
