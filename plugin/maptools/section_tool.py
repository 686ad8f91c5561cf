"""Cross-section map tool (横断面) and the plot panel it shares with the profile tool.

Left click the start of the section line, move (the line follows the mouse),
left click its end: the section is computed by tools/section.py on the
project's GeoPackage and plotted (tools/plots.py) in a dock panel with PNG /
SVG / PDF export. Right click or Esc cancels. Nothing is written to any layer.
"""
from __future__ import annotations

import os

from qgis.core import (QgsCoordinateTransform, QgsGeometry, QgsPointXY, QgsProject, QgsRasterLayer,
                       QgsVectorLayer, QgsWkbTypes)
from qgis.gui import QgsDockWidget, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QColor, QPixmap
from qgis.PyQt.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout,
                                 QWidget)

from ..toolbelt.log import log

LINE_COLOUR = QColor(30, 90, 220)


def chinese() -> bool:
    try:
        from ..main import qgis_locale

        return qgis_locale().lower().startswith("zh")
    except Exception:  # noqa: BLE001 - only picks the plot's language
        return False


def pipe_layer(project_path=None):
    """The open pipe_segment layer (of ``project_path`` when given), or None."""
    for lyr in QgsProject.instance().mapLayers().values():
        if not isinstance(lyr, QgsVectorLayer) or lyr.providerType() != "ogr":
            continue
        parts = lyr.source().split("|")
        if "layername=pipe_segment" not in parts[1:]:
            continue
        if project_path and os.path.abspath(parts[0]) != os.path.abspath(project_path):
            continue
        return lyr
    return None


def layer_path(layer):
    return layer.source().split("|")[0] if layer is not None else None


def find_dem(project_path):
    """A DEM for the ground line: a raster layer named like 'dem' in the
    project, else ``<name>_dem.tif`` / ``demo_dem.tif`` beside the project."""
    for lyr in QgsProject.instance().mapLayers().values():
        if isinstance(lyr, QgsRasterLayer) and "dem" in lyr.name().lower():
            path = lyr.source().split("|")[0]
            if os.path.isfile(path):
                return path
    if project_path:
        stem = os.path.splitext(project_path)[0]
        for cand in (stem + "_dem.tif", os.path.join(os.path.dirname(project_path), "demo_dem.tif")):
            if os.path.isfile(cand):
                return cand
    return None


class ProjectSource:
    """The project's GeoPackage, DEM and a check context reused while the file is unchanged."""

    def __init__(self, project_path=None):
        self.project_path = project_path or (lambda: None)
        self._ctx = None
        self._key = None

    def layer(self):
        return pipe_layer(self.project_path()) or pipe_layer()

    def context(self):
        """(CheckContext, layer); raises InputError when there is no project."""
        from ...layers.errors import InputError
        from ...tools.section import make_context

        layer = self.layer()
        path = self.project_path() or layer_path(layer)
        if not path or not os.path.isfile(path):
            raise InputError("open a Renewal Planner project first (no pipe_segment layer)")
        dem = find_dem(path)
        key = (os.path.abspath(path), os.path.getmtime(path), dem)
        if key != self._key:
            self._ctx = make_context(path, dem=dem)
            self._key = key
        return self._ctx, layer


class PlotPanel(QgsDockWidget):
    """A plot (rendered to a pixmap) with PNG / SVG / PDF export buttons."""

    def __init__(self, title, object_name, parent=None):
        super().__init__(title, parent)
        self.setObjectName(object_name)
        self.figure = None
        self.default_name = "plot"
        body = QWidget(self)
        lay = QVBoxLayout(body)
        self.summary = QLabel("", body)
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.image = QLabel(body)
        self.image.setAlignment(Qt.AlignCenter)
        self.pixmap = None  # the plot at full size; shown scaled to fit the panel
        scroll = QScrollArea(body)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.image)
        self.scroll = scroll
        lay.addWidget(scroll, 1)
        row = QHBoxLayout()
        self.buttons = {}
        for ext, text in (("png", self.tr("Export PNG…")), ("svg", self.tr("Export SVG…")),
                          ("pdf", self.tr("Export PDF…"))):
            b = QPushButton(text, body)
            b.setEnabled(False)
            b.clicked.connect(lambda _=False, e=ext: self.export_dialog(e))
            row.addWidget(b)
            self.buttons[ext] = b
        row.addStretch(1)
        lay.addLayout(row)
        self.setWidget(body)

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("PlotPanel", text)

    def show_figure(self, figure, summary="", name="plot"):
        from ...tools.plots import png_bytes

        self.figure = figure
        self.default_name = name
        pix = QPixmap()
        pix.loadFromData(png_bytes(figure, dpi=100), "PNG")
        self.pixmap = pix
        self._fit()
        self.summary.setText(summary)
        for b in self.buttons.values():
            b.setEnabled(True)
        self.show()
        self.raise_()

    def _fit(self):
        """Show the plot scaled down (never up) to the panel's visible area."""
        if self.pixmap is None or self.pixmap.isNull():
            return
        size = self.scroll.viewport().size()
        pix = self.pixmap
        if size.width() > 50 and size.height() > 50 and (
                pix.width() > size.width() or pix.height() > size.height()):
            pix = pix.scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        self.image.setPixmap(pix)

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def export_to(self, path):
        """Write the plot to ``path`` (.png / .svg / .pdf); returns the path."""
        from ...tools.plots import export

        if self.figure is None:
            return None
        return export(self.figure, path)

    def export_dialog(self, ext):
        filters = {"png": "PNG (*.png)", "svg": "SVG (*.svg)", "pdf": "PDF (*.pdf)"}
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export the plot"),
                                              f"{self.default_name}.{ext}", filters[ext])
        if not path:
            return None
        if not path.lower().endswith("." + ext):
            path += "." + ext
        try:
            return self.export_to(path)
        except Exception as exc:  # noqa: BLE001 - shown, never raised into Qt
            log(str(exc), "critical")
            self.summary.setText(str(exc))
            return None


class PlotMapTool(QgsMapTool):
    """What the section and profile tools share: the project they read, the
    panel they draw into, and messages to the bar and the log."""

    CURSOR = Qt.CrossCursor

    def __init__(self, canvas, iface=None, project_path=None):
        super().__init__(canvas)
        self.canvas_ = canvas
        self.iface = iface
        self.source = ProjectSource(project_path)
        self.panel = None
        self.last_message = ""
        self.setCursor(self.CURSOR)

    def title(self) -> str:
        """Title of this tool's messages (translated by the subclass)."""
        raise NotImplementedError

    def message(self, text, lvl="info"):
        self.last_message = text
        bar = self.iface.messageBar() if self.iface is not None else None
        log(text, lvl, bar=bar, title=self.title())

    #: object name of the tool's plot panel
    PANEL_NAME = ""

    def panel_title(self) -> str:
        """Title of the tool's plot panel (translated by the subclass)."""
        raise NotImplementedError

    def ensure_panel(self):
        """The plot panel, made (and docked at the bottom) on first use."""
        if self.panel is None:
            parent = self.iface.mainWindow() if self.iface is not None else None
            self.panel = PlotPanel(self.panel_title(), self.PANEL_NAME, parent)
            if self.iface is not None:
                self.iface.addDockWidget(Qt.BottomDockWidgetArea, self.panel)
        return self.panel

    def dispose(self):
        """Remove the panel (plugin unload)."""
        if self.panel is not None:
            if self.iface is not None:
                self.iface.removeDockWidget(self.panel)
            self.panel.hide()
            self.panel.setParent(None)
            self.panel.deleteLater()
            self.panel = None


class SectionMapTool(PlotMapTool):
    """Two clicks draw the section line; the plot opens in a panel."""

    def __init__(self, canvas, iface=None, project_path=None):
        super().__init__(canvas, iface, project_path)
        self.start = None
        self.band = QgsRubberBand(canvas, QgsWkbTypes.LineGeometry)
        self.band.setColor(LINE_COLOUR)
        self.band.setWidth(2)
        self.section = None

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("SectionMapTool", text)

    PANEL_NAME = "RenewalPlannerSectionPanel"

    def title(self):  # noqa: D102
        return self.tr("Cross-section")

    # -- mouse ---------------------------------------------------------------
    def canvasMoveEvent(self, event):  # noqa: N802
        if self.start is None:
            return
        p = QgsPointXY(event.mapPoint())
        self.band.setToGeometry(QgsGeometry.fromPolylineXY([self.start, p]), None)

    def canvasReleaseEvent(self, event):  # noqa: N802
        if event.button() == Qt.RightButton:
            self.cancel()
            return
        if event.button() != Qt.LeftButton:
            return
        p = QgsPointXY(event.mapPoint())
        if self.start is None:
            self.start = p
            self.band.setToGeometry(QgsGeometry.fromPolylineXY([p, p]), None)
            return
        start, self.start = self.start, None
        self.run([start, p])

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() == Qt.Key_Escape:
            self.cancel()

    def cancel(self):
        self.start = None
        self.band.reset(QgsWkbTypes.LineGeometry)

    # -- the section -------------------------------------------------------------
    def run(self, map_points):
        """Section along ``map_points`` (canvas CRS); returns the CrossSection or None."""
        from ...layers.errors import InputError
        from ...tools.plots import plot_cross_section
        from ...tools.section import cross_section

        try:
            ctx, layer = self.source.context()
            pts = map_points
            if layer is not None:
                xform = QgsCoordinateTransform(self.canvas_.mapSettings().destinationCrs(), layer.crs(),
                                               QgsProject.instance())
                pts = [xform.transform(p) for p in map_points]
            section = cross_section(ctx, [(p.x(), p.y()) for p in pts])
        except InputError as exc:
            self.message(self.tr("No cross-section: {0}").format(exc), "warning")
            self.band.reset(QgsWkbTypes.LineGeometry)
            return None
        self.section = section
        lang = "zh" if chinese() else "en"
        fig = plot_cross_section(section, lang=lang)
        n_b = int(section.clearances["breach"].sum()) if len(section.clearances) else 0
        summary = self.tr("{0} pipes cut, {1} clearance breaches; ground: {2}").format(
            len(section.pipes), n_b, section.ground_source)
        self.ensure_panel().show_figure(fig, summary, name="cross_section")
        self.message(summary, "warning" if n_b else "info")
        return section

    def panel_title(self):  # noqa: D102
        return self.tr("Cross-section / 横断面")

    def deactivate(self):
        self.cancel()
        super().deactivate()

    def dispose(self):
        """Remove the rubber band and the panel (plugin unload)."""
        self.cancel()
        scene = self.canvas_.scene()
        if scene is not None:
            scene.removeItem(self.band)
        super().dispose()
