"""Processing algorithms, one per command of the CLI (interfaces.md).

Each algorithm only converts parameters and calls the same function the CLI
calls; a user error (InputError / MissingDependency) becomes a
QgsProcessingException carrying its one-line message.
"""
from __future__ import annotations

import os

from qgis.core import (QgsCoordinateReferenceSystem, QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingOutputFile,
                       QgsProcessingParameterCrs, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterFolderDestination, QgsProcessingParameterNumber)
from qgis.PyQt.QtCore import QCoreApplication

from .icons import plugin_icon

DEFAULT_CRS = "EPSG:4547"
DEFAULT_SEED = 20261129


class RenewalPlannerAlgorithm(QgsProcessingAlgorithm):
    """Common parts: group, icon, translation, error conversion."""

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("RenewalPlannerAlgorithm", text)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def group(self):
        return self.tr("Project")

    def groupId(self):  # noqa: N802
        return "project"

    def icon(self):
        return plugin_icon()

    @staticmethod
    def user_error(exc) -> QgsProcessingException:
        return QgsProcessingException(str(exc))

    def require(self, feature: str) -> None:
        """Raise a QgsProcessingException naming what to install when ``feature`` lacks a package."""
        from . import deps

        problems = deps.missing_for(feature, deps.check())
        if problems:
            raise QgsProcessingException(
                QCoreApplication.translate("RenewalPlannerAlgorithm", "Missing Python packages: {0}")
                .format(deps.message(problems)))


class InitAlgorithm(RenewalPlannerAlgorithm):
    PROJECT = "PROJECT"
    CRS = "CRS"

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("InitAlgorithm", text)

    def name(self):
        return "init"

    def displayName(self):  # noqa: N802
        return self.tr("Create project")

    def shortHelpString(self):  # noqa: N802
        return self.tr("Creates an empty Renewal Planner project GeoPackage with every layer, "
                       "code list, style and form. The CRS must be projected in metres "
                       "(CGCS2000 / 3-degree Gauss-Kruger, e.g. EPSG:4547). "
                       "An existing file is never overwritten.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFileDestination(
            self.PROJECT, self.tr("Project GeoPackage"), self.tr("GeoPackage (*.gpkg)")))
        # Optional with a default: QGIS 3.22 does not fill in a missing CRS from
        # the default when it checks the parameters (qgis_process, processing.run).
        self.addParameter(QgsProcessingParameterCrs(
            self.CRS, self.tr("Coordinate reference system"), DEFAULT_CRS, optional=True))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..layers.errors import InputError, MissingDependency
        from ..layers.project import init_project

        self.require("project")
        path = self.parameterAsFileOutput(parameters, self.PROJECT, context)
        given = parameters.get(self.CRS)
        if given is None or given == "":
            crs = QgsCoordinateReferenceSystem(DEFAULT_CRS)
        else:
            crs = self.parameterAsCrs(parameters, self.CRS, context)
        if not crs.isValid():
            raise QgsProcessingException(self.tr("Invalid CRS: {0}").format(parameters.get(self.CRS)))
        crs_text = crs.authid() or crs.toWkt()
        if not path:
            raise QgsProcessingException(self.tr("No project file given"))
        try:
            path = init_project(path, crs=crs_text)
        except (InputError, MissingDependency) as exc:
            raise self.user_error(exc) from None
        feedback.pushInfo(f"created {path}")
        return {self.PROJECT: path}


class DemoAlgorithm(RenewalPlannerAlgorithm):
    OUT_DIR = "OUT_DIR"
    SEED = "SEED"
    PROJECT = "PROJECT"

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("DemoAlgorithm", text)

    def name(self):
        return "demo"

    def displayName(self):  # noqa: N802
        return self.tr("Build demo district")

    def shortHelpString(self):  # noqa: N802
        return self.tr("Builds the synthetic demo district (buildings, roads, pipelines, "
                       "trees, parking, DEM) as a Renewal Planner project in the output folder.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFolderDestination(
            self.OUT_DIR, self.tr("Output folder")))
        self.addParameter(QgsProcessingParameterNumber(
            self.SEED, self.tr("Random seed"), QgsProcessingParameterNumber.Integer,
            DEFAULT_SEED, optional=True, minValue=0))
        self.addOutput(QgsProcessingOutputFile(self.PROJECT, self.tr("Project GeoPackage")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..layers.errors import InputError, MissingDependency

        self.require("demo")
        out_dir = self.parameterAsString(parameters, self.OUT_DIR, context)
        seed = self.parameterAsInt(parameters, self.SEED, context)
        if not out_dir:
            raise QgsProcessingException(self.tr("No output folder given"))
        try:
            from .dock import build_demo_with_feedback
            result = build_demo_with_feedback(out_dir, seed, _Feedback(feedback))
        except (InputError, MissingDependency) as exc:
            raise self.user_error(exc) from None
        except ImportError as exc:
            raise QgsProcessingException(str(exc)) from None
        project = result.get("project") if isinstance(result, dict) else None
        if project:
            feedback.pushInfo(f"project {project}")
        return {self.OUT_DIR: os.path.abspath(out_dir), self.PROJECT: project}


class _Feedback:
    """Adapts QgsProcessingFeedback to the plugin's task feedback (set_progress / is_canceled)."""

    def __init__(self, feedback):
        self.feedback = feedback

    def set_progress(self, percent):
        try:
            self.feedback.setProgress(float(percent))
        except (TypeError, ValueError):
            pass

    def is_canceled(self):
        return self.feedback.isCanceled()

    def check_canceled(self):
        if self.feedback.isCanceled():
            from .tasks import Canceled

            raise Canceled()
