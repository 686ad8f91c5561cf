"""Plots of cross-sections and longitudinal profiles (matplotlib, Agg).

``plot_cross_section(section)`` and ``plot_profile(profile)`` return a
matplotlib Figure (no pyplot, no GUI); ``export(fig, path)`` writes PNG, SVG
or PDF by the extension. Every artist that stands for something carries a gid
(kept as the id of its SVG group) so the output can be checked without looking
at pixels:

* cross-section: ``ground``, ``pipe:<uid>``, ``label:<uid>``,
  ``clearance:<kind>:<uid_a>:<uid_b>`` and, for a breach,
  ``breach:<kind>:<uid_a>:<uid_b>`` (drawn in the breach colour);
* profile: ``ground``, ``top:<uid>``, ``invert:<uid>``, ``slope:<uid>``,
  ``reverse:<uid>`` (reverse slopes), ``node:<point>``, ``crossing:<uid>`` and
  ``breach:crossing:<uid>``.

Chinese text: the first CJK family of tools/sections.yaml ``plot.font_families``
that matplotlib's font manager knows (fonts-noto-cjk gives Noto Sans CJK).
"""
from __future__ import annotations

import os

import numpy as np

from ..layers.errors import InputError
from .section import class_label, load_settings

FORMATS = ("png", "svg", "pdf")

TEXT = {
    "section_title": ("横断面", "Cross-section"),
    "profile_title": ("纵断面", "Longitudinal profile"),
    "offset": ("距起点 (m)", "Offset along the section (m)"),
    "chainage": ("桩号 (m)", "Chainage (m)"),
    "elevation": ("高程 (m)", "Elevation (m)"),
    "relative": ("相对地面 (m)", "Below ground (m)"),
    "ground": ("地面", "Ground"),
    "top": ("管顶", "Pipe top"),
    "invert": ("管底(内底)", "Invert"),
    "reverse": ("倒坡", "reverse slope"),
    "ground_dem": ("地面线: DEM", "ground: DEM"),
    "ground_pipe_point": ("地面线: 管线点地面高程插值", "ground: pipe points' ground elevation"),
    "ground_dem+pipe_point": ("地面线: DEM + 管线点地面高程", "ground: DEM + pipe points"),
    "ground_none": ("地面高程未知: 按埋深绘制", "ground unknown: drawn by depth"),
    "breaches": ("净距不足 {0} 处", "{0} clearance breach(es)"),
    "no_breach": ("净距均满足", "all clearances met"),
    "h": ("水平", "horiz."),
    "v": ("垂直", "vert."),
    "flow": ("流向 →", "flow →"),
    "digitised": ("按绘制方向", "digitised direction"),
}


def t(key, lang):
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


def _rgb(c):
    return tuple(v / 255.0 for v in c)


_FONT_DONE = {}


def setup_fonts(settings=None) -> str:
    """Put a CJK font first in matplotlib's sans-serif list; its name ('' if none)."""
    import matplotlib

    cfg = (settings or load_settings())["plot"]
    key = tuple(cfg["font_families"])
    if key in _FONT_DONE:
        return _FONT_DONE[key]
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in cfg["font_families"] if name in have), "")
    if not found:  # any CJK family at all
        found = next((n for n in sorted(have) if "CJK" in n or "Hei" in n), "")
    if found:
        rest = [f for f in matplotlib.rcParams["font.sans-serif"] if f != found]
        matplotlib.rcParams["font.sans-serif"] = [found] + rest
        matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    _FONT_DONE[key] = found
    return found


def _figure(cfg):
    from matplotlib.figure import Figure

    return Figure(figsize=(float(cfg["width_in"]), float(cfg["height_in"])), dpi=float(cfg["dpi"]))


def _legend(ax, utilities, lang):
    from matplotlib.patches import Patch

    from .section import class_colour

    handles = [Patch(facecolor=class_colour(u), edgecolor="black", label=class_label(u, lang))
               for u in dict.fromkeys(utilities)]
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.8)


# ---------------------------------------------------------------------------
def plot_cross_section(section, lang="zh", title=None, settings=None):
    """The cross-section as a Figure (see the module doc for the gids)."""
    from matplotlib.patches import Ellipse, Rectangle

    settings = settings or load_settings()
    cfg = settings["plot"]
    setup_fonts(settings)
    bad = _rgb(cfg["breach_colour"])
    good = _rgb(cfg["ok_colour"])
    fig = _figure(cfg)
    ax = fig.add_subplot(1, 1, 1)
    p = section.pipes
    g = section.ground
    c = section.clearances

    gl, = ax.plot(g["offset"], g["elev"], color=_rgb(cfg["ground_colour"]), lw=1.6,
                  label=t("ground", lang))
    gl.set_gid("ground")
    low = float(np.nanmin(p["bottom"])) if len(p) and np.isfinite(p["bottom"]).any() else float(g["elev"].min()) - 3
    floor = low - 0.8
    ax.fill_between(g["offset"], g["elev"], floor, color=_rgb(cfg["ground_colour"]), alpha=0.08, lw=0)

    in_breach = set()
    if len(c):
        for _, r in c.loc[c["breach"]].iterrows():
            in_breach.update((r["uid_a"], r["uid_b"]))

    top_ground = float(np.nanmax(g["elev"]))

    for k, r in p.iterrows():
        if not np.isfinite(r["top"]):
            continue
        edge = bad if r["uid"] in in_breach else "black"
        lw = 1.8 if r["uid"] in in_breach else 0.8
        w = max(float(r["span_m"]), 0.05)
        h = max(float(r["height_m"]), 0.05)
        if r["shape"] == "box":
            patch = Rectangle((r["offset"] - w / 2.0, r["bottom"]), w, h, facecolor=r["colour"],
                              edgecolor=edge, lw=lw, zorder=3)
        else:
            patch = Ellipse((r["offset"], r["centre"]), w, h, facecolor=r["colour"], edgecolor=edge,
                            lw=lw, zorder=3)
        patch.set_gid(f"pipe:{r['uid']}")
        ax.add_patch(patch)
        # label above the ground, on a leader from the pipe top
        label = r["label_zh"] if lang == "zh" else r["label_en"]
        ly = top_ground + 0.4 + 0.9 * (k % 2)
        ax.plot([r["offset"], r["offset"]], [r["top"], ly], color="0.55", lw=0.5, ls=":", zorder=2)
        txt = ax.text(r["offset"], ly, label, ha="center", va="bottom", fontsize=6.5, zorder=5,
                      bbox=dict(boxstyle="round,pad=0.15", fc="white", ec=r["colour"], lw=0.6))
        txt.set_gid(f"label:{r['uid']}")


    for _, r in c.iterrows() if len(c) else []:
        col = bad if r["breach"] else good
        kind = "h" if r["kind"] == "horizontal" else "v"
        if not (np.isfinite(r["measured"]) and np.isfinite(r["y0"]) and np.isfinite(r["y1"])):
            continue
        if kind == "h":
            y = min(r["y0"], r["y1"])
            xs, ys = [r["x0"], r["x1"]], [y, y]
            tx, ty, rot = (r["x0"] + r["x1"]) / 2.0, y - 0.12, 0
        else:
            xs, ys = [r["x0"], r["x0"]], [r["y0"], r["y1"]]
            tx, ty, rot = r["x0"] + 0.15, (r["y0"] + r["y1"]) / 2.0, 0
        line, = ax.plot(xs, ys, color=col, lw=2.2 if r["breach"] else 0.9,
                        ls="--" if r["breach"] else "-", marker="|", ms=6, zorder=4)
        gid = f"{'breach' if r['breach'] else 'clearance'}:{r['kind']}:{r['uid_a']}:{r['uid_b']}"
        line.set_gid(gid)
        req = r["required"]
        sign = "<" if r["breach"] else "≥"
        s = f"{r['measured']:.2f}" + (f" {sign} {req:.2f}" if np.isfinite(req) else "")
        if r["breach"]:
            s = "! " + s
        txt = ax.text(tx, ty, s, ha="center" if kind == "h" else "left", va="top" if kind == "h" else "center",
                      fontsize=6.5, color=col, rotation=rot, zorder=6,
                      fontweight="bold" if r["breach"] else "normal")
        txt.set_gid(gid + ":text")

    nb = int(c["breach"].sum()) if len(c) else 0
    src = t(f"ground_{section.ground_source}", lang) if f"ground_{section.ground_source}" in TEXT else section.ground_source
    head = title or t("section_title", lang)
    status = t("breaches", lang).format(nb) if nb else t("no_breach", lang)
    ax.set_title(f"{head}   ({src}; {status})", fontsize=10, color=bad if nb else "black")
    ax.set_xlabel(t("offset", lang))
    ax.set_ylabel(t("relative" if section.relative else "elevation", lang))
    ax.set_xlim(-0.5, section.length + 0.5)
    ax.set_ylim(floor, top_ground + 2.6)
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(True, lw=0.3, alpha=0.5)
    _legend(ax, list(p["utility"]), lang)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
def plot_profile(profile, lang="zh", title=None, settings=None):
    """The longitudinal profile as a Figure (see the module doc for the gids)."""
    from .section import class_colour

    settings = settings or load_settings()
    cfg = settings["plot"]
    setup_fonts(settings)
    bad = _rgb(cfg["breach_colour"])
    fig = _figure(cfg)
    ax = fig.add_subplot(1, 1, 1)
    s = profile.segments
    nodes = profile.nodes
    colour = class_colour(profile.utility)

    gl, = ax.plot(np.ravel(np.column_stack([s["ch0"], s["ch1"]])),
                  np.ravel(np.column_stack([s["ground0"], s["ground1"]])),
                  color=_rgb(cfg["ground_colour"]), lw=1.5, label=t("ground", lang))
    gl.set_gid("ground")
    for _, r in s.iterrows():
        x = [r["ch0"], r["ch1"]]
        top, = ax.plot(x, [r["top0"], r["top1"]], color=colour, lw=1.0)
        top.set_gid(f"top:{r['uid']}")
        ax.fill_between(x, [r["top0"], r["top1"]], [r["invert0"], r["invert1"]], color=colour,
                        alpha=0.25, lw=0)
        inv, = ax.plot(x, [r["invert0"], r["invert1"]], color=bad if r["reverse"] else colour,
                       lw=2.4 if r["reverse"] else 1.2)
        inv.set_gid(f"invert:{r['uid']}")
        if r["reverse"]:
            mark, = ax.plot(x, [r["invert0"] - 0.08, r["invert1"] - 0.08], color=bad, lw=1.0, ls="--")
            mark.set_gid(f"reverse:{r['uid']}")
        if np.isfinite(r["slope_permille"]):
            label = f"{r['slope_permille']:.1f}‰"
            if r["reverse"]:
                label = f"! {t('reverse', lang)} {label}"
            xm = (r["ch0"] + r["ch1"]) / 2.0
            ym = (r["invert0"] + r["invert1"]) / 2.0
            txt = ax.text(xm, ym - 0.25, label, ha="center", va="top", fontsize=6, rotation=90
                          if r["length"] < 0.04 * max(profile.length, 1e-9) else 0,
                          color=bad if r["reverse"] else "0.2",
                          fontweight="bold" if r["reverse"] else "normal")
            txt.set_gid(f"slope:{r['uid']}")
    y_lo = float(np.nanmin(np.concatenate([s["invert0"], s["invert1"]]))) - 1.0 if len(s) else -5
    y_hi = float(np.nanmax(np.concatenate([s["ground0"], s["ground1"]]))) + 0.8 if len(s) else 1
    if not np.isfinite(y_lo):
        y_lo = -5.0
    if not np.isfinite(y_hi):
        y_hi = 1.0
    for _, r in nodes.iterrows():
        ln = ax.axvline(r["chainage"], color="0.7", lw=0.4, ls=":", zorder=0)
        ln.set_gid(f"node:{r['point']}")
        ax.text(r["chainage"], y_lo + 0.1, str(r["point"]), rotation=90, fontsize=5, color="0.4",
                ha="right", va="bottom")
    c = profile.crossings
    for k, r in c.iterrows() if len(c) else []:
        if not (np.isfinite(r["top"]) and np.isfinite(r["bottom"])):
            continue
        edge = bad if r["breach"] else "black"
        bar, = ax.plot([r["chainage"], r["chainage"]], [r["bottom"], r["top"]], color=r["colour"], lw=5,
                       solid_capstyle="butt", zorder=4)
        bar.set_gid(f"crossing:{r['uid']}")
        m, = ax.plot([r["chainage"]], [r["centre"]], marker="s" if r["shape"] == "box" else "o",
                     ms=5, mfc=r["colour"], mec=edge, mew=1.5 if r["breach"] else 0.6, zorder=5)
        m.set_gid(f"{'breach:' if r['breach'] else ''}crossing:{r['uid']}:marker")
        lab = r["label_zh"] if lang == "zh" else r["label_en"]
        if np.isfinite(r["gap"]):
            lab += f"\n{r['gap']:.2f}" + (f" < {r['required']:.2f} !" if r["breach"] else "")
        txt = ax.text(r["chainage"], r["top"] + 0.1 + 0.35 * (k % 3), lab, fontsize=5.5, ha="center", va="bottom",
                      color=bad if r["breach"] else "0.15", zorder=6)
        txt.set_gid(f"{'breach:' if r['breach'] else ''}crossing:{r['uid']}:text")
    n_rev = int(s["reverse"].sum())
    head = title or t("profile_title", lang)
    uids = f"{s['uid'].iloc[0]} … {s['uid'].iloc[-1]}" if len(s) > 1 else (s["uid"].iloc[0] if len(s) else "")
    basis = t("flow", lang) if profile.direction == "invert" else t("digitised", lang) + " →"
    rev = f"; {t('reverse', lang)} {n_rev}" if profile.gravity else ""
    ax.set_title(f"{head}  {class_label(profile.utility, lang)}  {uids}   ({basis}{rev})", fontsize=10,
                 color=bad if n_rev else "black")
    ax.set_xlabel(t("chainage", lang))
    ax.set_ylabel(t("relative" if profile.relative else "elevation", lang))
    ax.set_xlim(-0.01 * max(profile.length, 1), profile.length * 1.01 + 0.5)
    ax.set_ylim(y_lo, y_hi)
    ax.grid(True, lw=0.3, alpha=0.5)
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], color=_rgb(cfg["ground_colour"]), label=t("ground", lang)),
                       Line2D([], [], color=colour, lw=1.0, label=t("top", lang)),
                       Line2D([], [], color=colour, lw=1.2, label=t("invert", lang)),
                       Line2D([], [], color=bad, lw=2.4, label=t("reverse", lang))],
              loc="upper right", fontsize=7, framealpha=0.8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
def export(fig, path, settings=None) -> str:
    """Write ``fig`` to ``path`` as PNG, SVG or PDF (by the extension)."""
    import matplotlib

    ext = os.path.splitext(str(path))[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise InputError(f"cannot export as {ext or 'a file without extension'}: use .png, .svg or .pdf",
                         file=str(path))
    cfg = (settings or load_settings())["plot"]
    folder = os.path.dirname(os.path.abspath(str(path)))
    if not os.path.isdir(folder):
        raise InputError("the folder does not exist", file=folder)
    # SVG keeps text as text (searchable, checkable); PDF embeds TrueType subsets
    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
        fig.savefig(str(path), format=ext, dpi=float(cfg["dpi"]))
    return str(path)


def png_bytes(fig, dpi=None) -> bytes:
    """The figure as PNG bytes (for a QPixmap in the plugin's panels)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi)
    return buf.getvalue()
