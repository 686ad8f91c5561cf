"""The review side of the Checks tab: findings grouped by renovation area, rule,
owner of the pipes involved or review status (a tree of groups with their
counts; choosing a group narrows the results table to it, so a whole group can
be selected and reviewed at once), and the per-owner review sheets (export to
the utilities, import their answers).

The grouping and the sheets are ``tools.review`` (no Qt there); this module
only shows them.
"""
from __future__ import annotations

import os

from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtWidgets import (QApplication, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                                 QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from .results_model import ResultsFilterProxy

GROUP_ROLE = Qt.UserRole + 1
ALL = "\0all"
NONE = "\0none"


class GroupedFilterProxy(ResultsFilterProxy):
    """The results filter plus a set of conflict ids (the chosen group)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ids = None

    def set_ids(self, ids=None) -> None:
        """Show only these conflict ids (None: no restriction)."""
        self.ids = None if ids is None else set(ids)
        self._recompute()

    def accepted_mask(self):
        keep = super().accepted_mask()
        model = self.sourceModel()
        if getattr(self, "ids", None) is not None and model is not None and len(keep):
            keep &= model.frame["conflict_id"].isin(self.ids).to_numpy()
        return keep


class ReviewPanel(QWidget):
    """Group-by selector and tree of groups; export / import of owner sheets."""

    def __init__(self, tab, parent=None):
        super().__init__(parent)
        self.tab = tab
        self.setObjectName("reviewPanel")
        self.grouped = None
        self.members = {}
        self.last_export = []
        self.last_import = None
        from ..layers import schema

        self._reviews = list(schema.model().domain("review").values)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Group by"), self))
        self.group_combo = QComboBox(self)
        self.group_combo.setObjectName("groupByCombo")
        for key, text in ((None, self.tr("No grouping")), ("area", self.tr("Renovation area")),
                          ("rule", self.tr("Rule")), ("owner", self.tr("Owner of the pipes")),
                          ("review", self.tr("Review status"))):
            self.group_combo.addItem(text, key)
        self.group_combo.currentIndexChanged.connect(self.refresh)
        row.addWidget(self.group_combo, 1)
        layout.addLayout(row)

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("groupTree")
        labels = [self.tab._label("review", r) for r in self._reviews]
        self.tree.setHeaderLabels([self.tr("Group"), self.tr("Findings")] + labels)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.tree.header().setSectionResizeMode(0, QHeaderView.Stretch)
        self.tree.header().setMinimumSectionSize(24)
        self.setMinimumWidth(260)
        self.tree.currentItemChanged.connect(self._group_chosen)
        layout.addWidget(self.tree, 1)
        self.select_all_button = QPushButton(self.tr("Select all shown"), self)
        self.select_all_button.setObjectName("selectAllShownButton")
        self.select_all_button.setToolTip(self.tr("Select every finding shown, to review them at once"))
        self.select_all_button.clicked.connect(self.select_all_shown)
        layout.addWidget(self.select_all_button)
        self.tree.hide()

        # placed in the tab's review row by the tab
        self.export_button = QPushButton(self.tr("Export owner sheets…"), tab)
        self.export_button.setObjectName("exportOwnerSheetsButton")
        self.export_button.setToolTip(self.tr(
            "One XLSX per owner of the pipes involved, to send to the utilities for review"))
        self.export_button.clicked.connect(self.choose_export)
        self.import_button = QPushButton(self.tr("Import owner sheet…"), tab)
        self.import_button.setObjectName("importOwnerSheetButton")
        self.import_button.setToolTip(self.tr("Apply the review statuses and notes of a returned owner sheet"))
        self.import_button.clicked.connect(self.choose_import)

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("ReviewPanel", text)

    # -- grouping -------------------------------------------------------------------------
    def group_by(self):
        return self.group_combo.currentData()

    def set_group_by(self, key) -> None:
        i = self.group_combo.findData(key)
        self.group_combo.setCurrentIndex(i if i >= 0 else 0)

    def refresh(self, *args) -> None:
        """Recompute the groups of the project's findings (keeps the chosen group)."""
        from ..tools.review import group_findings, group_summary

        chosen = self.current_group()
        by = self.group_by()
        self.tree.blockSignals(True)
        self.tree.clear()
        self.members = {}
        self.grouped = None
        project = self.tab.project_path
        if by is None or not project:
            self.tree.blockSignals(False)
            self.tree.hide()
            self.tab.proxy.set_ids(None)
            self.tab._update_count()
            return
        try:
            self.grouped = group_findings(project, by)
        except Exception as exc:  # not a project, unreadable: one message, no groups
            self.tree.blockSignals(False)
            self.tab.dock.report(self.tr("Could not group the findings: {0}").format(exc), "warning")
            self.tab.proxy.set_ids(None)
            return
        label = "group_zh" if self.tab.lang.startswith("zh") else "group_en"
        keys = self.grouped["group"].astype(object).where(self.grouped["group"].notna(), NONE)
        for key, ids in self.grouped.groupby(keys, sort=False)["conflict_id"]:
            self.members[key] = set(ids)
        summary = group_summary(self.grouped)
        total = QTreeWidgetItem(self.tree, [self.tr("All findings"), str(self.tab.model.rowCount())])
        total.setData(0, GROUP_ROLE, ALL)
        current = total
        for rec in summary.to_dict("records"):
            key = rec["group"] if rec["group"] is not None and rec["group"] == rec["group"] else NONE
            item = QTreeWidgetItem(self.tree, [str(rec[label]), str(rec["findings"])] +
                                   [str(rec[r]) if rec[r] else "" for r in self._reviews])
            item.setData(0, GROUP_ROLE, key)
            item.setToolTip(0, str(rec[label]))
            for c in range(1, 2 + len(self._reviews)):
                item.setTextAlignment(c, int(Qt.AlignRight | Qt.AlignVCenter))
            if key == chosen:
                current = item
        self.tree.setCurrentItem(current)
        self.tree.blockSignals(False)
        self.tree.show()
        self._apply(current)

    def current_group(self):
        item = self.tree.currentItem()
        return item.data(0, GROUP_ROLE) if item is not None else None

    def groups(self) -> list:
        """(key, text, findings) of the tree's rows, 'all' first (None for the no-group row)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            key = item.data(0, GROUP_ROLE)
            out.append((None if key == NONE else key, item.text(0), int(item.text(1))))
        return out

    def choose_group(self, key) -> bool:
        """Make group ``key`` current (ALL for every finding, None for the no-group row)."""
        key = NONE if key is None else key
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, GROUP_ROLE) == key:
                self.tree.setCurrentItem(item)
                return True
        return False

    def _group_chosen(self, current, previous=None) -> None:
        self._apply(current)

    def _apply(self, item) -> None:
        key = item.data(0, GROUP_ROLE) if item is not None else ALL
        self.tab.proxy.set_ids(None if key in (None, ALL) else self.members.get(key, set()))
        self.tab._update_count()

    def select_all_shown(self) -> None:
        self.tab.view.selectAll()

    # -- owner sheets ---------------------------------------------------------------------
    def choose_export(self) -> list:
        if not self.tab.project_path:
            return []
        out = QFileDialog.getExistingDirectory(self, self.tr("Folder for the owner sheets"),
                                               os.path.dirname(self.tab.project_path))
        return self.export_sheets(out) if out else []

    def export_sheets(self, out_dir: str, owners=None) -> list:
        """Write the owner sheets into ``out_dir``; returns the paths."""
        from ..layers.errors import InputError, MissingDependency
        from ..tools.review import export_owner_sheets

        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            paths = export_owner_sheets(self.tab.project_path, out_dir, owners=owners)
        except (InputError, MissingDependency, OSError) as exc:
            self.tab.dock.report(self.tr("Could not write the owner sheets: {0}").format(exc), "critical")
            return []
        finally:
            QApplication.restoreOverrideCursor()
        self.last_export = paths
        if paths:
            self.tab.dock.report(self.tr("{0} owner sheets written to {1}").format(len(paths), out_dir), "success")
        else:
            self.tab.dock.report(self.tr("No finding involves a pipe of a known owner: no sheet written"), "info")
        return paths

    def choose_import(self):
        if not self.tab.project_path:
            return None
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Returned owner sheet"),
                                              os.path.dirname(self.tab.project_path),
                                              self.tr("Excel workbook (*.xlsx)"))
        return self.import_sheet(path) if path else None

    def import_sheet(self, path: str, reviewer: str = None):
        """Apply a returned owner sheet; returns the import summary (None on error)."""
        import sqlite3

        from ..layers.errors import InputError, MissingDependency
        from ..tools.review import import_owner_sheet

        try:
            summary = import_owner_sheet(self.tab.project_path, path, reviewer=reviewer)
        except (InputError, MissingDependency, sqlite3.Error, OSError) as exc:
            self.tab.dock.report(self.tr("Could not import the owner sheet: {0}").format(exc), "critical")
            return None
        self.last_import = summary
        self.tab.reload_results()
        self.tab.refresh_results_layer(add=False)
        problems = len(summary["unknown_ids"]) + len(summary["invalid"]) + len(summary["duplicates"])
        text = self.tr("{0}: {1} reviews applied, {2} unchanged").format(
            os.path.basename(path), len(summary["applied"]), summary["unchanged"])
        if problems:
            rows = sorted([r for r, *_ in summary["unknown_ids"] + summary["invalid"] + summary["duplicates"]])
            text += "; " + self.tr("{0} rows not applied (unknown id, invalid status or repeated): rows {1}").format(
                problems, ", ".join(str(r) for r in rows[:20]))
        self.tab.dock.report(text, "warning" if problems else "success")
        return summary
