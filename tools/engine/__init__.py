"""The conflict-check engine: every rule of rules.md over a project.

No Qt here: the same ``run_checks`` serves the command line, Processing, a
QgsTask in the dock and the tests.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List

from ...layers.errors import InputError
from .context import Cancelled, CheckContext  # noqa: F401 - re-exported
from .findings import FINDING_COLUMNS, conflict_id, empty_findings
from .registry import RULES, rule_function


@dataclass
class CheckRun:
    findings: object  # GeoDataFrame: FINDING_COLUMNS + conflict_id, message_zh/en, rule_profile
    profile: str
    rule_ids: List[str]
    seconds: Dict[str, float] = field(default_factory=dict)
    area_geometry: object = None  # the renovation area of an --area run


def parse_only(only) -> List[str]:
    if not only:
        return list(RULES)
    ids = [x.strip() for x in (only.split(",") if isinstance(only, str) else only) if x.strip()]
    for x in ids:
        if x not in RULES:
            raise InputError(f"--only: unknown rule {x!r} (known: {', '.join(RULES)})")
    return ids


def run_checks(project: str, rules_path: str = None, only=None, dem: str = None, area: str = None,
               progress=None, is_cancelled=None, rules=None) -> CheckRun:
    import pandas as pd
    import geopandas as gpd

    from ..ruleset import load_rules
    from .messages import format_messages

    rules = rules or load_rules(rules_path)
    ids = parse_only(only)
    ctx = CheckContext(project, rules, dem=dem, area=area, progress=progress,
                       is_cancelled=is_cancelled)
    frames, seconds = [], {}
    for k, rid in enumerate(ids):
        ctx.progress(k / len(ids), rid)
        t0 = time.perf_counter()
        df = rule_function(rid)(ctx)
        seconds[rid] = time.perf_counter() - t0
        if len(df):
            frames.append(df[FINDING_COLUMNS])
    ctx.progress(1.0, "done")
    out = pd.concat(frames, ignore_index=True) if frames else empty_findings()
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=None)
    out["conflict_id"] = [conflict_id(*row) for row in
                          zip(out["rule_id"], out["layer_a"], out["uid_a"], out["layer_b"], out["uid_b"])]
    dup = out["conflict_id"].duplicated(keep=False)
    if dup.any():  # a rule must give one row per pair: a bug, not bad input
        raise AssertionError(f"duplicate findings: {out.loc[dup, ['rule_id', 'uid_a', 'uid_b']].head()}")
    out["message_zh"], out["message_en"] = format_messages(out) if len(out) else ([], [])
    out["rule_profile"] = rules.profile
    return CheckRun(out, rules.profile, ids, seconds, ctx.area_geometry)
