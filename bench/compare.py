"""Engine findings against the SQL peers' findings, rule by rule.

The SQL reads rules.md strictly (no survey uncertainty): a pair is in the SQL
set when its measured value breaks the requirement as drawn. The engine adds
the certainty band: every strict breach is a finding (certain or possible),
a 'certain' finding breaks it even with the uncertainty in the features'
favour, and near misses within the uncertainty are extra 'possible' ones. So:

  missing        SQL pairs the engine does not report           (must be 0)
  extra_certain  engine 'certain' pairs the SQL does not find   (must be 0)
  extra_possible engine 'possible' pairs the SQL does not find  (the band; counted, allowed)
  bad_measured   pairs in both whose measured values differ by more than TOL
Same findings = missing, extra_certain and bad_measured all 0.
"""
from __future__ import annotations

import numpy as np

TOL = 1e-4  # m / m2: GEOS overlay vs closed-form measures


def compare(engine_df, sql_df) -> dict:
    import pandas as pd

    key = ["layer_a", "uid_a", "uid_b"]
    e = engine_df[key + ["measured", "certainty"]].copy() if engine_df is not None else pd.DataFrame(
        columns=key + ["measured", "certainty"])
    s = sql_df[key + ["measured"]].copy()
    m = s.merge(e, on=key, how="outer", suffixes=("_sql", "_eng"), indicator=True)
    both = m["_merge"] == "both"
    d = (m.loc[both, "measured_sql"] - m.loc[both, "measured_eng"]).abs()
    eng_only = m["_merge"] == "right_only"
    out = {
        "engine": int(len(e)),
        "engine_certain": int((e["certainty"] == "certain").sum()),
        "sql": int(len(s)),
        "common": int(both.sum()),
        "missing": int((m["_merge"] == "left_only").sum()),
        "extra_certain": int((eng_only & (m["certainty"] == "certain")).sum()),
        "extra_possible": int((eng_only & (m["certainty"] != "certain")).sum()),
        "bad_measured": int((d > TOL).sum()),
        "max_abs_diff": float(d.max()) if len(d) else 0.0,
    }
    out["same"] = out["missing"] == 0 and out["extra_certain"] == 0 and out["bad_measured"] == 0
    examples = m.loc[(m["_merge"] == "left_only") | (eng_only & (m["certainty"] == "certain"))].head(3)
    bad = m.loc[both].loc[(d > TOL).to_numpy()].head(3)
    out["examples"] = [{k: (v if not isinstance(v, float) or np.isfinite(v) else None)
                        for k, v in r.items() if k != "_merge"}
                       for r in pd.concat([examples, bad]).astype(object).to_dict("records")]
    return out


def compare_peers(a_df, b_df) -> int:
    """Pairs found by one SQL peer and not the other (should be 0)."""
    key = ["layer_a", "uid_a", "uid_b"]
    m = a_df[key].merge(b_df[key], on=key, how="outer", indicator=True)
    return int((m["_merge"] != "both").sum())
