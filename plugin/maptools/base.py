"""What the row map tools share: clicks, live preview, obstacles, writing through the edit buffer.

A row tool: the first left click sets the start, moving the mouse previews
the row (placed features in one colour, skipped positions in red with their
reasons as labels and tooltips), the second left click writes the placed
features into the target layer's edit buffer as one undoable edit command.
Right click or Esc cancels. The geometry comes from tools/ (no Qt there).
"""
from __future__ import annotations

import os
import uuid

from qgis.core import (QgsFeature, QgsGeometry, QgsPointXY, QgsProject, QgsRectangle, QgsVectorLayer,
                       QgsWkbTypes)
from qgis.gui import QgsMapCanvasItem, QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import QCoreApplication, QPointF, QRectF, Qt
from qgis.PyQt.QtGui import QColor, QFont, QPen
from qgis.PyQt.QtWidgets import QToolTip

from ..toolbelt.log import log

OK_COLOUR = QColor(0, 150, 60)
SKIP_COLOUR = QColor(220, 0, 0)
LINE_COLOUR = QColor(30, 90, 220)
#: obstacles are read for the row's box grown by this much (m): the largest
#: reach of a rule (hydrant distance, clearances) stays well inside
READ_MARGIN_M = 60.0


def use_chinese() -> bool:
    try:
        from ..main import qgis_locale

        return qgis_locale().lower().startswith("zh")
    except Exception:  # noqa: BLE001 - the locale only picks the language of reasons
        return False


def layer_table(layer) -> tuple:
    """(GeoPackage path, table name) of an OGR layer, else (None, None)."""
    if not isinstance(layer, QgsVectorLayer) or layer.providerType() != "ogr":
        return None, None
    parts = layer.source().split("|")
    table = None
    for p in parts[1:]:
        if p.startswith("layername="):
            table = p.split("=", 1)[1]
    return parts[0], table


def find_layer(table: str, project_path: str = None):
    """The open layer showing ``table`` (of ``project_path`` when given);
    the active layer wins when it qualifies."""
    cands = []
    for lyr in QgsProject.instance().mapLayers().values():
        path, name = layer_table(lyr)
        if name == table and (project_path is None or os.path.abspath(path) == os.path.abspath(project_path)):
            cands.append(lyr)
    return cands[0] if cands else None


def short_reason(code: str) -> str:
    """A short map label for a skip reason code (the tooltip has the full text)."""
    first = code.split(",")[0]
    return {
        "fire_lane": QCoreApplication.translate("RowMapTool", "fire lane"),
        "structure": QCoreApplication.translate("RowMapTool", "cover"),
        "hydrant": QCoreApplication.translate("RowMapTool", "hydrant"),
        "tree": QCoreApplication.translate("RowMapTool", "tree"),
        "building": QCoreApplication.translate("RowMapTool", "building"),
        "stall": QCoreApplication.translate("RowMapTool", "stall"),
        "pipe": QCoreApplication.translate("RowMapTool", "pipe"),
    }.get(first, first)


def _deleted(obj) -> bool:
    try:
        from qgis.PyQt import sip
    except ImportError:  # pragma: no cover
        import sip
    return obj is None or sip.isdeleted(obj)


class Labels(QgsMapCanvasItem):
    """Short text labels at map points (the skip reasons of the preview)."""

    def __init__(self, canvas):
        super().__init__(canvas)
        self._canvas = canvas
        self.items = []  # (QgsPointXY in map CRS, text)
        self.setZValue(1000)

    def set_items(self, items):
        self.items = list(items)
        if _deleted(self._canvas):
            return
        self.setRect(self._canvas.extent())
        self.update()

    def boundingRect(self):  # noqa: N802
        return QRectF(0, 0, self._canvas.width(), self._canvas.height())

    def updatePosition(self):  # noqa: N802
        self.setRect(self._canvas.extent())

    def paint(self, painter, option=None, widget=None):
        if not self.items:
            return
        painter.setFont(QFont("Sans", 8))
        painter.setPen(QPen(SKIP_COLOUR))
        origin = self.pos()
        last = {}
        for p, text in self.items:
            c = self.toCanvasCoordinates(p)
            prev = last.get(text)
            if prev is not None and abs(prev.x() - c.x()) + abs(prev.y() - c.y()) < 60:
                continue  # one label for a run of positions skipped for the same reason
            last[text] = c
            painter.drawText(QPointF(c.x() - origin.x() + 3, c.y() - origin.y() - 3), text)


class RowMapTool(QgsMapTool):
    """Base of the stall-row and tree-row tools (see module doc)."""

    TABLE = None            # target data-model layer
    OBSTACLES = ()          # data-model layers read as obstacles
    GEOMETRY = QgsWkbTypes.PolygonGeometry

    def __init__(self, canvas, iface=None, project_path=None):
        super().__init__(canvas)
        self.iface = iface
        self.project_path = project_path or (lambda: None)
        self.start = None          # QgsPointXY, layer CRS
        self.fixed_line = None     # a picked kerb line (layer CRS), or None
        self.result = None         # last preview (GeoDataFrame)
        self.last_error = ""
        self._obstacles = None
        self._obs_box = None
        self._obs_source = None
        self.panel = None
        self.setCursor(Qt.CrossCursor)
        self.ok_band = self._band(self.GEOMETRY, OK_COLOUR)
        self.skip_band = self._band(self.GEOMETRY, SKIP_COLOUR)
        self.line_band = self._band(QgsWkbTypes.LineGeometry, LINE_COLOUR)
        self.labels = Labels(canvas)

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("RowMapTool", text)

    # -- plumbing -------------------------------------------------------------
    def _band(self, gtype, colour):
        band = QgsRubberBand(self.canvas(), gtype)
        band.setStrokeColor(colour)
        fill = QColor(colour)
        fill.setAlpha(70)
        band.setFillColor(fill)
        band.setWidth(2)
        if gtype == QgsWkbTypes.PointGeometry:
            band.setIcon(QgsRubberBand.ICON_CIRCLE)
            band.setIconSize(10)
        return band

    def message(self, text, lvl="info"):
        bar = self.iface.messageBar() if self.iface is not None else None
        log(text, lvl, bar=bar, duration=5 if lvl in ("info", "success") else 8)

    def target_layer(self):
        return find_layer(self.TABLE, self.project_path())

    def gpkg_path(self, layer):
        path = self.project_path()
        if path:
            return path
        return layer_table(layer)[0] if layer is not None else None

    # -- obstacles --------------------------------------------------------------
    def obstacles(self, layer, bounds):
        """Obstacle frames around ``bounds`` (minx, miny, maxx, maxy, layer CRS):
        read from the project GeoPackage (cached for a box grown by
        READ_MARGIN_M), plus the features added to the target layer's edit
        buffer and not saved yet."""
        from ...tools.rowgeom import read_obstacles

        path = self.gpkg_path(layer)
        if not path or not os.path.isfile(path):
            return {}
        b = self._obs_box
        inside = b is not None and self._obs_source == path and bounds[0] >= b[0] and bounds[1] >= b[1] \
            and bounds[2] <= b[2] and bounds[3] <= b[3]
        if not inside:
            m = 2 * READ_MARGIN_M
            box = (bounds[0] - m, bounds[1] - m, bounds[2] + m, bounds[3] + m)
            self._obstacles = read_obstacles(path, box, self.OBSTACLES)
            self._obs_box, self._obs_source = box, path
        obs = dict(self._obstacles)
        added = self._edit_buffer_frame(layer)
        if added is not None:
            import pandas as pd

            base = obs.get(self.TABLE)
            obs[self.TABLE] = added if base is None or len(base) == 0 else \
                pd.concat([base, added], ignore_index=True)
        return obs

    def _edit_buffer_frame(self, layer):
        if layer is None or not layer.isEditable() or layer.editBuffer() is None:
            return None
        feats = list(layer.editBuffer().addedFeatures().values())
        if not feats:
            return None
        import geopandas as gpd
        import shapely

        idx = layer.fields().indexOf("uid")
        geoms = shapely.from_wkb([bytes(f.geometry().asWkb()) for f in feats])
        uids = [f.attribute(idx) if idx >= 0 else None for f in feats]
        return gpd.GeoDataFrame({"uid": [u if u else "new" for u in uids]}, geometry=list(geoms))

    def invalidate_obstacles(self):
        self._obstacles = self._obs_box = self._obs_source = None

    # -- row line ---------------------------------------------------------------
    def layer_point(self, event, layer):
        p = event.mapPoint() if hasattr(event, "mapPoint") else self.toMapCoordinates(event.pos())
        return self.toLayerCoordinates(layer, p) if layer is not None else QgsPointXY(p)

    def compute(self, points, layer, side_point=None):
        """Run the geometry for the row along ``points`` [(x, y), ...]: a
        GeoDataFrame; subclasses implement."""
        raise NotImplementedError

    def preview(self, points, layer, side_point=None):
        from ...layers.errors import InputError

        self.clear_preview()
        try:
            self.result = self.compute(points, layer, side_point)
            self.last_error = ""
        except InputError as exc:
            self.result = None
            self.last_error = exc.reason
            return None
        line = QgsGeometry.fromPolylineXY([QgsPointXY(*p) for p in points])
        self.line_band.setToGeometry(line, layer)
        labels = []
        for g, skipped, reason in zip(self.result.geometry, self.result["skipped"], self.result["reason"]):
            qg = QgsGeometry.fromWkt(g.wkt)
            (self.skip_band if skipped else self.ok_band).addGeometry(qg, layer)
            if skipped:
                c = qg.centroid().asPoint() if qg.type() != QgsWkbTypes.PointGeometry else qg.asPoint()
                labels.append((self.toMapCoordinates(layer, c) if layer is not None else c, short_reason(reason)))
        self.labels.set_items(labels)
        if self.panel is not None:
            self.panel.show_summary(self.summary())
        return self.result

    def summary(self) -> str:
        if self.result is None:
            return self.last_error
        n = int((~self.result["skipped"]).sum())
        k = int(self.result["skipped"].sum())
        return self.tr("{0} placed, {1} skipped").format(n, k)

    def clear_preview(self):
        if self.ok_band is None:
            return
        self.ok_band.reset(self.GEOMETRY)
        self.skip_band.reset(self.GEOMETRY)
        self.line_band.reset(QgsWkbTypes.LineGeometry)
        self.labels.set_items([])

    def cancel(self):
        self.start = None
        self.fixed_line = None
        self.result = None
        self.clear_preview()

    # -- events -------------------------------------------------------------------
    def canvasMoveEvent(self, event):  # noqa: N802
        layer = self.target_layer()
        if self.start is not None and self.fixed_line is None:
            p = self.layer_point(event, layer)
            if p.distance(self.start) > 0:
                self.preview([(self.start.x(), self.start.y()), (p.x(), p.y())], layer)
        self._tooltip(event, layer)

    def _tooltip(self, event, layer):
        if self.result is None or not len(self.result):
            return
        import shapely

        p = self.layer_point(event, layer)
        pt = shapely.points(p.x(), p.y())
        tol = 4 * self.canvas().mapUnitsPerPixel()
        d = shapely.distance(self.result.geometry.values, pt)
        i = int(d.argmin())
        if d[i] <= tol and self.result["skipped"].iloc[i]:
            col = "reason_zh" if use_chinese() else "reason_en"
            QToolTip.showText(self.canvas().mapToGlobal(event.pos()), str(self.result[col].iloc[i]),
                              self.canvas())

    def canvasReleaseEvent(self, event):  # noqa: N802
        layer = self.target_layer()
        if event.button() == Qt.RightButton:
            self.cancel()
            return
        if event.button() != Qt.LeftButton:
            return
        if layer is None:
            self.message(self.tr("No {0} layer in the project: open the project from the Renewal Planner "
                                 "dock first.").format(self.TABLE), "warning")
            return
        p = self.layer_point(event, layer)
        if event.modifiers() & Qt.ControlModifier:
            self.pick_line(event, layer, p)
            return
        if self.fixed_line is not None:
            self.commit(layer)
            return
        if self.start is None:
            self.start = p
            return
        self.preview([(self.start.x(), self.start.y()), (p.x(), p.y())], layer)
        self.commit(layer)

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() == Qt.Key_Escape:
            self.cancel()
            event.accept()
        else:
            event.ignore()

    def pick_line(self, event, layer, p):
        """Ctrl+click: the row follows the nearest edge of a line or polygon
        feature of a visible layer (a kerb); the click's side of it is the
        row's side."""
        map_p = event.mapPoint() if hasattr(event, "mapPoint") else self.toMapCoordinates(event.pos())
        tol = 8 * self.canvas().mapUnitsPerPixel()
        best = None
        for lyr in self.canvas().layers():
            if not isinstance(lyr, QgsVectorLayer) or lyr.geometryType() not in (
                    QgsWkbTypes.LineGeometry, QgsWkbTypes.PolygonGeometry):
                continue
            lp = self.toLayerCoordinates(lyr, map_p)
            rect = QgsRectangle(lp.x() - tol, lp.y() - tol, lp.x() + tol, lp.y() + tol)
            for f in lyr.getFeatures(rect):
                g = f.geometry()
                d, _, after, _ = g.closestSegmentWithContext(lp)
                if after > 0 and (best is None or d < best[0]):
                    best = (d, lyr, g.vertexAt(after - 1), g.vertexAt(after))
        if best is None:
            self.message(self.tr("No line or polygon edge under the click to follow."), "warning")
            return
        _, lyr, a, b = best
        a = self.toLayerCoordinates(layer, self.toMapCoordinates(lyr, QgsPointXY(a.x(), a.y())))
        b = self.toLayerCoordinates(layer, self.toMapCoordinates(lyr, QgsPointXY(b.x(), b.y())))
        self.start = None
        self.fixed_line = [(a.x(), a.y()), (b.x(), b.y())]
        self.preview(self.fixed_line, layer, side_point=(p.x(), p.y()))

    # -- writing ---------------------------------------------------------------------
    def attributes(self, row) -> dict:
        raise NotImplementedError

    def commit(self, layer):
        """Write the placed features of the preview into the edit buffer (one
        undoable command). Nothing changes when the layer is not in edit mode
        or the row is bad."""
        result = self.result
        if result is None:
            self.message(self.last_error or self.tr("Nothing to place."), "warning")
            self.cancel()
            return 0
        if not layer.isEditable():
            self.message(self.tr("Layer {0} is not in edit mode: toggle editing on it first; nothing was "
                                 "added.").format(layer.name()), "warning")
            self.cancel()
            return 0
        placed = result[~result["skipped"]]
        if len(placed) == 0:
            self.message(self.tr("Every position of the row is skipped: nothing was added."), "warning")
            self.cancel()
            return 0
        from ...layers.errors import InputError

        feats = []
        fields = layer.fields()
        for g, (_, row) in zip(placed.geometry, placed.iterrows()):  # the row's few features
            f = QgsFeature(fields)
            qg = QgsGeometry.fromWkt(g.wkt)
            if QgsWkbTypes.isMultiType(layer.wkbType()):
                qg.convertToMultiType()
            f.setGeometry(qg)
            attrs = dict(self.attributes(row), uid=uuid.uuid4().hex)
            for k, v in attrs.items():
                i = fields.indexOf(k)
                if i >= 0:
                    f.setAttribute(i, v)
            feats.append(f)
        layer.beginEditCommand(self.command_text())
        try:
            ok = layer.addFeatures(feats)
        except Exception as exc:  # noqa: BLE001 - never leave an open edit command
            layer.destroyEditCommand()
            raise InputError(str(exc)) from exc
        if not ok:
            layer.destroyEditCommand()
            self.message(self.tr("QGIS refused the new features; nothing was added."), "warning")
            self.cancel()
            return 0
        layer.endEditCommand()
        layer.triggerRepaint()
        self.message(self.tr("Added {0} features to {1}; {2} positions skipped.").format(
            len(feats), layer.name(), int(result["skipped"].sum())), "success")
        self.cancel()
        return len(feats)

    def make_panel(self):
        """The options panel (a floating tool window); subclasses implement."""
        return None

    def options(self) -> dict:
        """The panel's current options (the panel is made on first use)."""
        if self.panel is None:
            self.panel = self.make_panel()
        return self.panel.options()

    def command_text(self) -> str:
        return self.tr("Row")

    # -- activation -------------------------------------------------------------------
    def activate(self):
        super().activate()
        self.invalidate_obstacles()
        if self.panel is None:
            self.panel = self.make_panel()
        if self.panel is not None:
            self.panel.show()

    def deactivate(self):
        if not _deleted(self.canvas()):
            self.cancel()
        if self.panel is not None:
            self.panel.hide()
        super().deactivate()

    def dispose(self):
        """Remove the rubber bands, labels and panel (plugin unload)."""
        self.cancel()
        scene = self.canvas().scene()
        for item in (self.ok_band, self.skip_band, self.line_band, self.labels):
            if item is not None and scene is not None:
                scene.removeItem(item)
        self.ok_band = self.skip_band = self.line_band = self.labels = None
        if self.panel is not None:
            self.panel.setParent(None)
            self.panel.deleteLater()
            self.panel = None
