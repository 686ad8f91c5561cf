"""Longitudinal profile map tool (纵断面): click a pipe, see its run's profile.

The clicked pipe segment (the nearest within a few pixels) names the run;
tools/profile.py follows it through start_uid/end_uid in the flow direction,
tools/plots.py draws it into a panel with PNG / SVG / PDF export. Nothing is
written to any layer.
"""
from __future__ import annotations

from qgis.core import QgsCoordinateTransform, QgsFeatureRequest, QgsGeometry, QgsPointXY, QgsProject, QgsRectangle
from qgis.PyQt.QtCore import QCoreApplication, Qt

from .section_tool import PlotMapTool, chinese

PICK_PIXELS = 6


class ProfileMapTool(PlotMapTool):
    CURSOR = Qt.PointingHandCursor

    def __init__(self, canvas, iface=None, project_path=None):
        super().__init__(canvas, iface, project_path)
        self.profile = None

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("ProfileMapTool", text)

    PANEL_NAME = "RenewalPlannerProfilePanel"

    def title(self):  # noqa: D102
        return self.tr("Profile")

    def pick(self, layer, map_point):
        """uid of the pipe segment nearest ``map_point`` (canvas CRS) within a few pixels."""
        xform = QgsCoordinateTransform(self.canvas_.mapSettings().destinationCrs(), layer.crs(),
                                       QgsProject.instance())
        p = xform.transform(QgsPointXY(map_point))
        tol = self.canvas_.mapUnitsPerPixel() * PICK_PIXELS
        rect = QgsRectangle(p.x() - tol, p.y() - tol, p.x() + tol, p.y() + tol)
        where = QgsGeometry.fromPointXY(p)
        best, best_d = None, None
        for f in layer.getFeatures(QgsFeatureRequest().setFilterRect(rect)):
            d = f.geometry().distance(where)
            if d <= tol and (best_d is None or d < best_d):
                best, best_d = f, d
        return None if best is None else best["uid"]

    def canvasReleaseEvent(self, event):  # noqa: N802
        if event.button() != Qt.LeftButton:
            return
        self.run_at(QgsPointXY(event.mapPoint()))

    def run_at(self, map_point):
        from ...layers.errors import InputError

        try:
            ctx, layer = self.source.context()
            if layer is None:
                raise InputError("open a Renewal Planner project first (no pipe_segment layer)")
            uid = self.pick(layer, map_point)
        except InputError as exc:
            self.message(self.tr("No profile: {0}").format(exc), "warning")
            return None
        if uid is None:
            self.message(self.tr("Click on a pipe segment."), "info")
            return None
        return self.run(uid)

    def run(self, uid=None, uids=None):
        """Profile of the run through ``uid`` (or along ``uids``); the Profile or None."""
        from ...layers.errors import InputError
        from ...tools.plots import plot_profile
        from ...tools.profile import longitudinal_profile

        try:
            ctx, _ = self.source.context()
            prof = longitudinal_profile(ctx, uid=uid, uids=uids)
        except InputError as exc:
            self.message(self.tr("No profile: {0}").format(exc), "warning")
            return None
        self.profile = prof
        fig = plot_profile(prof, lang="zh" if chinese() else "en")
        n_rev = int(prof.segments["reverse"].sum())
        n_cross = int(prof.crossings["breach"].sum()) if len(prof.crossings) else 0
        summary = self.tr("{0} segments, {1} m; {2} reverse slopes; {3} crossings too close").format(
            len(prof.segments), f"{prof.length:.1f}", n_rev, n_cross)
        self.ensure_panel().show_figure(fig, summary, name="profile")
        self.message(summary, "warning" if (n_rev or n_cross) else "info")
        return prof

    def panel_title(self):  # noqa: D102
        return self.tr("Profile / 纵断面")
