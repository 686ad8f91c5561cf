"""Checks while drawing (issue 5, item 5): when a feature of a thematic layer
of the open project GeoPackage is added, reshaped or gets a checked attribute
changed, the rules that involve it run for it alone
(``tools.engine.live.check_feature``) and the findings go to the message bar,
the message log and the Checks tab's table (as live, unsaved rows).

The edited feature is read from the edit buffer on the main thread; the check
runs in a QgsTask after a short debounce, so a burst of edits (a vertex drag,
a pasted row) gives one check per feature and the canvas never waits.
Measured on the demo district: 20-150 ms per feature (bench/live_bench.py),
too slow to run on the main thread between two mouse events.
"""
from __future__ import annotations

import os

from qgis.core import QgsProject, QgsSettings, QgsVectorLayer
from qgis.PyQt.QtCore import QCoreApplication, QObject, QTimer, pyqtSignal

from .tasks import FunctionTask, TaskRunner
from .toolbelt.log import log

SETTING = "renewal_planner/live_checks"
ACTION_OBJECT_NAME = "RenewalPlannerLiveChecks"
DEBOUNCE_MS = 150
BAR_MAX = 3                  # findings spelt out in the message bar


def layer_table(layer):
    """(GeoPackage path, table) of an OGR layer, else (None, None)."""
    if not isinstance(layer, QgsVectorLayer) or layer.providerType() != "ogr":
        return None, None
    parts = layer.source().split("|")
    table = None
    for p in parts[1:]:
        if p.startswith("layername="):
            table = p.split("=", 1)[1]
    return parts[0], table


def checked_fields(table: str) -> set:
    """Fields whose change can change a finding: coded values, numbers, status.

    Names, notes, owners and the like are left out, so typing a name does not
    run the checks."""
    from ..layers import schema

    out = set()
    for f in schema.model().layer(table).fields:
        if f.name in ("uid", "updated_at"):
            continue
        if f.domain or f.type in ("real", "integer") or f.name in ("start_uid", "end_uid"):
            out.add(f.name)
    return out


def _py(value):
    """A Python value of a QGIS attribute (NULL -> None, dates -> ISO text)."""
    if value is None:
        return None
    try:
        from qgis.PyQt.QtCore import QDate, QDateTime, QVariant

        if isinstance(value, QVariant):
            return None if value.isNull() else value.value()
        if isinstance(value, QDateTime):
            return value.toString("yyyy-MM-ddTHH:mm:ss") if value.isValid() else None
        if isinstance(value, QDate):
            return value.toString("yyyy-MM-dd") if value.isValid() else None
    except ImportError:
        pass
    return value


def feature_dict(layer, feature, table: str) -> dict:
    """Model fields of ``feature`` and its shapely ``geometry``."""
    import shapely

    from ..layers import schema

    out = {}
    names = layer.fields().names()
    for f in schema.model().layer(table).fields:
        if f.name in names:
            out[f.name] = _py(feature.attribute(f.name))
    g = feature.geometry()
    out["geometry"] = None if g is None or g.isNull() else shapely.from_wkb(bytes(g.asWkb()))
    if not out.get("uid"):
        out["uid"] = f"(new {abs(feature.id())})" if feature.id() < 0 else f"(fid {feature.id()})"
    return out


class LiveChecks(QObject):
    """Connects to the project's thematic layers and checks edited features.

    ``project_path``: callable giving the open project GeoPackage (or None);
    ``checks_tab``: callable giving the Checks tab (or None). Emits
    ``findings_ready(layer_id, fid, frame)`` for every finished check.
    """

    findings_ready = pyqtSignal(str, int, object)

    def __init__(self, iface, project_path, checks_tab=None, parent=None):
        super().__init__(parent)
        self.iface = iface
        self.project_path = project_path or (lambda: None)
        self.checks_tab = checks_tab or (lambda: None)
        self.action = None
        self.runner = TaskRunner()
        self.enabled = str(QgsSettings().value(SETTING, True)).lower() not in ("false", "0")
        self._layers = {}          # layer id -> (layer, table, connections)
        self._pending = {}         # (layer id, fid) -> generation
        self._generation = 0
        self._latest = {}          # (layer id, fid) -> generation of the newest edit
        self._running = False
        self._reported = set()     # (layer id, fid) with findings shown
        self._live = {}            # (layer id, fid) -> findings frame shown in the table
        self.last = None           # (layer id, fid, frame) of the last finished check
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self._flush)
        self._cache = None
        project = QgsProject.instance()
        project.layersAdded.connect(self._layers_added)
        project.layersWillBeRemoved.connect(self._layers_removed)
        self._layers_added(list(project.mapLayers().values()))

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("LiveChecks", text)

    # -- the toggle action -----------------------------------------------------------
    def make_action(self, parent):
        from qgis.core import QgsApplication
        from qgis.PyQt.QtWidgets import QAction

        action = QAction(QgsApplication.getThemeIcon("/mActionCheckGeometry.svg"),
                         self.tr("Check while drawing / 边画边查"), parent)
        action.setObjectName(ACTION_OBJECT_NAME)
        action.setCheckable(True)
        action.setChecked(self.enabled)
        action.setToolTip(self.tr("Check every feature as it is drawn or changed, against the rules "
                                  "that involve its layer"))
        action.toggled.connect(self.set_enabled)
        self.action = action
        return action

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        QgsSettings().setValue(SETTING, self.enabled)
        if not self.enabled:
            self._pending.clear()
            self.timer.stop()
        if self.action is not None and self.action.isChecked() != self.enabled:
            self.action.setChecked(self.enabled)

    # -- layers ------------------------------------------------------------------------
    def _layers_added(self, layers) -> None:
        from ..layers import schema
        from ..tools.engine.live import relevant_rules

        model = schema.model()
        for layer in layers:
            path, table = layer_table(layer)
            if not table or layer.id() in self._layers:
                continue
            try:
                lyr = model.layer(table)
            except KeyError:
                continue
            if not lyr.thematic or not relevant_rules(table):
                continue
            fields = checked_fields(table)
            lid = layer.id()
            conns = [
                (layer.featureAdded, lambda fid, i=lid: self.edited(i, fid)),
                (layer.geometryChanged, lambda fid, g, i=lid: self.edited(i, fid)),
                (layer.attributeValueChanged,
                 lambda fid, idx, v, i=lid, f=fields: self._attribute_changed(i, fid, idx, f)),
                (layer.featureDeleted, lambda fid, i=lid: self.forget(i, fid)),
                (layer.afterRollBack, lambda i=lid: self.forget_layer(i)),
            ]
            for sig, slot in conns:
                sig.connect(slot)
            self._layers[lid] = (layer, table, conns)

    def _layers_removed(self, ids) -> None:
        for lid in ids:
            self._disconnect(lid)

    def _disconnect(self, lid) -> None:
        item = self._layers.pop(lid, None)
        if item is None:
            return
        for sig, slot in item[2]:
            try:
                sig.disconnect(slot)
            except (TypeError, RuntimeError):
                pass
        self.forget_layer(lid)

    def watched(self) -> dict:
        """{layer id: table} of the layers listened to."""
        return {lid: v[1] for lid, v in self._layers.items()}

    def _attribute_changed(self, lid, fid, idx, fields) -> None:
        layer = self._layers.get(lid, (None,))[0]
        if layer is None:
            return
        name = layer.fields().at(idx).name() if 0 <= idx < layer.fields().count() else None
        if name in fields:
            self.edited(lid, fid)

    # -- edits -------------------------------------------------------------------------
    def _in_project(self, layer) -> bool:
        project = self.project_path()
        path, _ = layer_table(layer)
        return bool(project and path and os.path.abspath(path) == os.path.abspath(project))

    def edited(self, lid, fid) -> None:
        """A feature was added or changed: check it after the debounce."""
        if not self.enabled or lid not in self._layers:
            return
        if not self._in_project(self._layers[lid][0]):
            return
        self._generation += 1
        self._pending[(lid, int(fid))] = self._generation
        self._latest[(lid, int(fid))] = self._generation
        self.timer.start()

    def _flush(self) -> None:
        """Read the pending features from the edit buffers and check them in one task."""
        if self._running:  # one task at a time: the next flush follows it
            self.timer.start()
            return
        pending, self._pending = self._pending, {}
        jobs = []
        for (lid, fid), gen in pending.items():
            item = self._layers.get(lid)
            if item is None:
                continue
            layer, table, _ = item
            feature = layer.getFeature(fid)  # the edit buffer's version
            if not feature.isValid():
                continue
            jobs.append((lid, fid, gen, table, feature_dict(layer, feature, table)))
        if not jobs:
            return
        project = self.project_path()
        dem = self._dem(project)
        cache = self._live_cache(project)

        def work(feedback):
            from ..tools.engine.live import check_feature

            out = []
            for lid, fid, gen, table, feat in jobs:
                if feedback.is_canceled():
                    break
                out.append((lid, fid, gen, table, feat,
                            check_feature(project, table, feat, dem=dem, cache=cache)))
            return out

        self._running = True
        task = FunctionTask(self.tr("Checking the edited features"), work, on_success=self._done,
                            on_error=self._failed, on_canceled=self._stopped, can_cancel=True)
        self.runner.start(task)

    def _live_cache(self, project):
        from ..tools.engine.live import LiveCache

        if self._cache is None or self._cache[0] != project:
            self._cache = (project, LiveCache())
        return self._cache[1]

    def _dem(self, project):
        tab = self.checks_tab()
        try:
            path = tab.dem_widget.filePath().strip() if tab is not None else ""
        except (AttributeError, RuntimeError):
            path = ""
        if path:
            return path
        from ..tools.check import default_dem

        return default_dem(project) if project else None

    def _stopped(self) -> None:
        self._running = False

    def _failed(self, exc) -> None:
        self._running = False
        log(self.tr("Check while drawing failed: {0}").format(exc), "warning",
            bar=self.iface.messageBar() if self.iface else None)

    def _done(self, results) -> None:
        self._running = False
        for lid, fid, gen, table, feat, frame in results:
            if self._latest.get((lid, fid)) != gen or not self.enabled:
                continue  # edited again meanwhile (checked next) or switched off
            self.report(lid, fid, table, feat, frame)
        if self._pending:
            self.timer.start()

    # -- reporting ---------------------------------------------------------------------
    def _lang(self) -> str:
        try:
            from .dock import ui_language

            return ui_language()
        except Exception:  # noqa: BLE001
            return "en"

    def report(self, lid, fid, table, feat, frame) -> None:
        """Message bar + log + the Checks tab's table + ``findings_ready``."""
        from qgis.core import Qgis

        key = (lid, fid)
        self.last = (lid, fid, frame)
        msg = "message_zh" if self._lang() == "zh" else "message_en"
        bar = self.iface.messageBar() if self.iface is not None else None
        title = self.tr("Check while drawing")
        if len(frame):
            lines = list(frame[msg])
            text = "; ".join(lines[:BAR_MAX])
            if len(lines) > BAR_MAX:
                text += self.tr(" … and {0} more (Checks tab)").format(len(lines) - BAR_MAX)
            severe = (frame["severity"] == "error").any()
            log(f"{table} {feat.get('uid')}: " + "; ".join(lines), "warning" if severe else "info")
            if bar is not None:
                bar.pushMessage(title, text, level=Qgis.Critical if severe else Qgis.Warning, duration=8)
            self._reported.add(key)
        elif key in self._reported:
            self._reported.discard(key)
            text = self.tr("{0}: no conflicts now").format(feat.get("uid"))
            log(text, "info")
            if bar is not None:
                bar.pushMessage(title, text, level=Qgis.Success, duration=3)
        self._show_in_table(key, frame)
        self.findings_ready.emit(lid, int(fid), frame)

    def _show_in_table(self, key, frame) -> None:
        """Live rows in the Checks tab: replace this feature's previous live rows
        (and saved rows with the same conflict id)."""
        import pandas as pd

        if len(frame):
            self._live[key] = frame
        else:
            self._live.pop(key, None)
        tab = self.checks_tab()
        if tab is None:
            return
        try:
            base = tab.model.frame
        except (AttributeError, RuntimeError):
            return
        if "live" in base.columns:
            base = base.loc[base["live"].isna() | (base["live"] == False)]  # noqa: E712
        rows = [self._table_rows(k, f) for k, f in self._live.items()]
        if rows:
            live = pd.concat(rows, ignore_index=True)
            if "conflict_id" in base.columns:
                base = base.loc[~base["conflict_id"].isin(set(live["conflict_id"]))]
            base = pd.concat([live, base], ignore_index=True) if len(base) else live
        tab.show_frame(base.reset_index(drop=True))

    def _table_rows(self, key, frame):
        import pandas as pd

        from ..layers import gpkgblob

        rows = pd.DataFrame({c: frame[c].to_numpy() for c in (
            "conflict_id", "rule_id", "layer_a", "uid_a", "layer_b", "uid_b", "measured", "required",
            "unit", "severity", "certainty", "rule_source", "message_zh", "message_en", "rule_profile")})
        rows["review"] = self.tr("live (unsaved)")
        rows["last_seen"] = self.tr("live (unsaved)")
        rows["live"] = True
        rows["geom"] = gpkgblob.to_blobs(frame.geometry.to_numpy(), 0)
        return rows

    def live_rows(self):
        """The live findings shown in the table (one frame), or an empty list."""
        import pandas as pd

        return pd.concat(list(self._live.values()), ignore_index=True) if self._live else []

    def forget(self, lid, fid) -> None:
        key = (lid, int(fid))
        self._pending.pop(key, None)
        self._reported.discard(key)
        if key in self._live:
            self._live.pop(key)
            self._show_in_table(key, [])

    def forget_layer(self, lid) -> None:
        for key in [k for k in list(self._live) + list(self._pending) if k[0] == lid]:
            self.forget(*key)

    # -- shutdown ----------------------------------------------------------------------
    def unload(self) -> None:
        self.timer.stop()
        self.runner.cancel_all()
        project = QgsProject.instance()
        for sig, slot in ((project.layersAdded, self._layers_added),
                          (project.layersWillBeRemoved, self._layers_removed)):
            try:
                sig.disconnect(slot)
            except (TypeError, RuntimeError):
                pass
        for lid in list(self._layers):
            item = self._layers.pop(lid)
            for sig, slot in item[2]:
                try:
                    sig.disconnect(slot)
                except (TypeError, RuntimeError):
                    pass
        self._live.clear()
        if self.action is not None:
            try:
                self.action.toggled.disconnect(self.set_enabled)
            except (TypeError, RuntimeError):
                pass
            for w in list(self.action.associatedWidgets()):
                w.removeAction(self.action)
            self.action.setParent(None)
            self.action.deleteLater()
            self.action = None
