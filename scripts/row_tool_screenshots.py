"""Screenshots of the stall-row and tree-row tools on the demo district (docs/stall_row.png, docs/tree_row.png).

Usage: QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/row_tool_screenshots.py [DEMO_DIR]
Builds the demo district into DEMO_DIR (default: a temporary folder) when it
has no demo.qgz, opens it, drives each tool (first click, mouse moved to the
end: the live preview) and renders the canvas with the rubber bands and the
tool's options panel beside it.
"""
import os
import sys
import tempfile

from renewal_planner.layers.qgis_env import qgis_app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STALL_ROW = [(530262, 3380315), (530320, 3380315)]   # crosses a fire lane, covers, a hydrant, trees
TREE_ROW = [(530075, 3380128), (530075, 3380192)]    # along pipes, across a fire lane


def main(demo_dir=None):
    qgis_app()
    from qgis.core import QgsPointXY, QgsProject, QgsRectangle
    from qgis.gui import QgsMapCanvas, QgsMapMouseEvent
    from qgis.PyQt.QtCore import QEvent, QPoint, Qt
    from qgis.PyQt.QtGui import QColor, QImage, QPainter
    from qgis.PyQt.QtWidgets import QApplication

    from renewal_planner.plugin.maptools.stall_row_tool import StallRowTool
    from renewal_planner.plugin.maptools.tree_row_tool import TreeRowTool
    from renewal_planner.tools.demo import build_demo

    demo_dir = demo_dir or tempfile.mkdtemp(prefix="rp-demo-")
    qgz = os.path.join(demo_dir, "demo.qgz")
    if not os.path.exists(qgz):
        build_demo(demo_dir)
    gpkg = os.path.join(demo_dir, "demo.gpkg")
    proj = QgsProject.instance()
    proj.read(qgz)
    layers = [n.layer() for n in proj.layerTreeRoot().findLayers() if n.isVisible() and n.layer()]
    for name, cls, row in (("stall_row", StallRowTool, STALL_ROW), ("tree_row", TreeRowTool, TREE_ROW)):
        canvas = QgsMapCanvas()
        canvas.setCanvasColor(QColor("white"))
        canvas.resize(900, 640)
        canvas.setDestinationCrs(proj.crs())
        canvas.setLayers(layers)
        canvas.show()
        (x0, y0), (x1, y1) = row
        m = 18
        canvas.setExtent(QgsRectangle(min(x0, x1) - m, min(y0, y1) - m, max(x0, x1) + m, max(y0, y1) + m))
        canvas.refresh()
        canvas.waitWhileRendering()
        tool = cls(canvas, None, lambda: gpkg)
        canvas.setMapTool(tool)
        if name == "tree_row":
            tool.panel.species_edit.setText("国槐")

        def ev(x, y, kind, button):
            pix = canvas.getCoordinateTransform().transform(QgsPointXY(x, y))
            e = QgsMapMouseEvent(canvas, kind, QPoint(int(pix.x()), int(pix.y())), button, button, Qt.NoModifier)
            e.setMapPoint(QgsPointXY(x, y))
            return e

        tool.canvasReleaseEvent(ev(x0, y0, QEvent.MouseButtonRelease, Qt.LeftButton))
        tool.canvasMoveEvent(ev(x1, y1, QEvent.MouseMove, Qt.NoButton))
        for _ in range(5):
            QApplication.processEvents()
        canvas.refresh()
        canvas.waitWhileRendering()
        QApplication.processEvents()
        shot = canvas.grab().toImage()
        panel = tool.panel
        panel.setFixedWidth(440)
        panel.adjustSize()
        panel.resize(440, max(panel.height(), panel.layout().heightForWidth(440) + 20))
        pimg = panel.grab().toImage()
        out = QImage(shot.width() + pimg.width() + 10, max(shot.height(), pimg.height()), QImage.Format_ARGB32)
        out.fill(QColor("white"))
        p = QPainter(out)
        p.drawImage(0, 0, shot)
        p.drawImage(shot.width() + 10, 0, pimg)
        p.end()
        path = os.path.join(ROOT, "docs", f"{name}.png")
        out.save(path)
        r = tool.result
        print(f"{path}: {int((~r['skipped']).sum())} placed, {int(r['skipped'].sum())} skipped "
              f"({', '.join(sorted(set(c for s in r['reason'] for c in s.split(',') if c)))})")
        canvas.unsetMapTool(tool)
        tool.dispose()
        canvas.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
