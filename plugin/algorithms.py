"""Processing algorithms, one per command of the CLI (interfaces.md).

Each algorithm only converts parameters and calls the same function the CLI
calls; a user error (InputError / MissingDependency) becomes a
QgsProcessingException carrying its one-line message.
"""
from __future__ import annotations

import os

from qgis.core import (QgsCoordinateReferenceSystem, QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingOutputFile,
                       QgsProcessingOutputNumber, QgsProcessingOutputVectorLayer,
                       QgsProcessingParameterBoolean, QgsProcessingParameterCrs, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterFolderDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString)
from qgis.PyQt.QtCore import QCoreApplication

from .icons import plugin_icon

DEFAULT_CRS = "EPSG:4547"
DEFAULT_SEED = 20261129


def project_parameter(name: str, description: str) -> QgsProcessingParameterFile:
    """The PROJECT of a command on an existing project: a GeoPackage file, or a
    PostGIS project string (postgresql://user@host:port/db?schema=NAME; from
    QGIS, the dock's saved connection hands the credentials over)."""
    return QgsProcessingParameterFile(name, description, defaultValue=dock_project(),
                                      fileFilter=QCoreApplication.translate(
                                          "RenewalPlannerAlgorithm",
                                          "GeoPackage (*.gpkg);;PostGIS project string (*)"))


def dock_project():
    """The project last opened in the dock (a GeoPackage that still exists, or
    a PostGIS project string), or None: the PROJECT a dialog opens with, so a
    user working in the dock need not pick the same file again."""
    from ..layers.project import is_pg
    from .toolbelt import settings

    last = settings.LAST_PROJECT.value().strip()
    if last and (is_pg(last) or os.path.isfile(last)):
        return last
    return None


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


class CheckAlgorithm(RenewalPlannerAlgorithm):
    """``renewal_planner:check``: the same as ``renewal-planner check`` (tools/check.py)."""

    PROJECT = "PROJECT"
    RULES = "RULES"
    ONLY = "ONLY"
    DEM = "DEM"
    AREA = "AREA"
    CERTAIN_ONLY = "CERTAIN_ONLY"
    CSV = "CSV"
    FINDINGS = "FINDINGS"
    CERTAIN = "CERTAIN"
    NEW = "NEW"
    RESOLVED = "RESOLVED"
    CONFLICTS = "CONFLICTS"

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("CheckAlgorithm", text)

    def name(self):
        return "check"

    def displayName(self):  # noqa: N802
        return self.tr("Check conflicts")

    def group(self):
        return self.tr("Checks")

    def groupId(self):  # noqa: N802
        return "checks"

    def shortHelpString(self):  # noqa: N802
        from ..tools.engine.registry import RULES

        return self.tr("Runs the conflict checks on a project GeoPackage and merges the findings "
                       "into its conflict table (reviews are kept, findings that no longer occur "
                       "become resolved). Rules to run: comma-separated ids among {0} "
                       "(empty: all). Area: the uid of a renovation area. The DEM defaults to "
                       "PROJECT_dem.tif beside the project.").format(", ".join(RULES))

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(project_parameter(
            self.PROJECT, self.tr("Project (GeoPackage file or PostGIS connection)")))
        self.addParameter(QgsProcessingParameterFile(
            self.RULES, self.tr("Rules profile (YAML)"), optional=True,
            fileFilter=self.tr("Rules profile (*.yaml *.yml)")))
        self.addParameter(QgsProcessingParameterString(
            self.ONLY, self.tr("Rules to run (comma-separated ids, empty: all)"), optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.DEM, self.tr("DEM (GeoTIFF)"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.AREA, self.tr("Renovation area (uid, empty: whole project)"), optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            self.CERTAIN_ONLY, self.tr("Certain findings only (count and CSV)"), False, optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.CSV, self.tr("Findings CSV"), self.tr("CSV files (*.csv)"), optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber(self.FINDINGS, self.tr("Number of findings")))
        self.addOutput(QgsProcessingOutputNumber(self.CERTAIN, self.tr("Number of certain findings")))
        self.addOutput(QgsProcessingOutputNumber(self.NEW, self.tr("New findings")))
        self.addOutput(QgsProcessingOutputNumber(self.RESOLVED, self.tr("Resolved findings")))
        self.addOutput(QgsProcessingOutputVectorLayer(self.CONFLICTS, self.tr("Conflict table")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..layers.errors import InputError, MissingDependency
        from ..tools.engine.context import Cancelled

        self.require("check")
        project = self.parameterAsFile(parameters, self.PROJECT, context)
        if not project:
            raise QgsProcessingException(self.tr("No project file given"))
        rules = self.parameterAsFile(parameters, self.RULES, context) or None
        only = (self.parameterAsString(parameters, self.ONLY, context) or "").strip() or None
        area = (self.parameterAsString(parameters, self.AREA, context) or "").strip() or None
        dem = None
        if parameters.get(self.DEM) not in (None, ""):
            layer = self.parameterAsRasterLayer(parameters, self.DEM, context)
            dem = layer.source() if layer is not None else str(parameters.get(self.DEM))
        certain_only = self.parameterAsBool(parameters, self.CERTAIN_ONLY, context)
        csv_path = self.parameterAsFileOutput(parameters, self.CSV, context) or None

        def progress(fraction, message=""):
            feedback.setProgress(100.0 * float(fraction))
            if message:
                feedback.setProgressText(str(message))

        try:
            run, rows, counts = check_with_progress(project, rules=rules, only=only, dem=dem, area=area,
                                                    progress=progress, is_cancelled=feedback.isCanceled)
        except Cancelled:
            raise QgsProcessingException(self.tr("Canceled: nothing was written")) from None
        except (InputError, MissingDependency) as exc:
            raise self.user_error(exc) from None
        except ImportError as exc:
            raise QgsProcessingException(str(exc)) from None
        if certain_only:
            rows = [r for r in rows if r["certainty"] == "certain"]
        from ..tools.check import summary_lines

        for line in summary_lines(run, rows, counts):
            feedback.pushInfo(line)
        if csv_path:
            write_csv(csv_path, rows)
        from ..layers.project import layer_uri

        return {self.FINDINGS: len(rows),
                self.CERTAIN: sum(1 for r in rows if r["certainty"] == "certain"),
                self.NEW: counts.get("new", 0), self.RESOLVED: counts.get("resolved", 0),
                self.CSV: csv_path, self.CONFLICTS: conflicts_source(project, layer_uri)}


def check_with_progress(project, rules=None, only=None, dem=None, area=None, progress=None,
                        is_cancelled=None):
    """tools.check.check_project (one place for the algorithm and the dock)."""
    from ..tools.check import check_project

    return check_project(project, rules=rules, only=only, dem=dem, area=area, progress=progress,
                         is_cancelled=is_cancelled)


def conflicts_source(project: str, layer_uri):
    """Data source of the project's conflict layer: the GeoPackage sublayer, or for
    PostGIS the table through the saved connection's authcfg (None if unknown)."""
    from ..layers.project import is_pg

    if not is_pg(project):
        return layer_uri(os.path.abspath(project), "conflict")
    from . import pgconn

    return pgconn.conflict_source(project)


def write_csv(path: str, rows) -> str:
    """The findings CSV of ``renewal-planner check --csv`` (same columns, same rounding)."""
    import csv

    from ..tools.check import CSV_COLUMNS

    def clean(v):
        if isinstance(v, float):
            return None if v != v else round(v, 4)
        return v

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: clean(r.get(k)) for k in CSV_COLUMNS})
    return path


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


class ImportAlgorithm(RenewalPlannerAlgorithm):
    """``renewal_planner:import``: the same as ``renewal-planner import`` (layers/importer)."""

    PROJECT = "PROJECT"
    FILE = "FILE"
    LAYER = "LAYER"
    MAPPING = "MAPPING"
    CRS = "CRS"
    ENCODING = "ENCODING"
    BATCH = "BATCH"
    REPORT = "REPORT"
    BATCH_ID = "BATCH_ID"
    RECORDS_IN = "RECORDS_IN"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UPDATED = "UPDATED"

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("ImportAlgorithm", text)

    def name(self):
        return "import"

    def displayName(self):  # noqa: N802
        return self.tr("Import survey data")

    def shortHelpString(self):  # noqa: N802
        return self.tr("Imports a survey delivery (GeoPackage, Shapefile, GeoJSON, DXF, CSV/XLSX point "
                       "or line table, EPANET .inp) into the project's pipe_point / pipe_segment layers "
                       "in one transaction. Every record is accepted or kept in import_reject with its "
                       "reason; the batch is recorded in import_batch.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(project_parameter(
            self.PROJECT, self.tr("Project (GeoPackage file or PostGIS connection)")))
        self.addParameter(QgsProcessingParameterFile(self.FILE, self.tr("File to import")))
        self.addParameter(QgsProcessingParameterString(
            self.LAYER, self.tr("Target layer (auto, pipe_point, pipe_segment)"), "auto", optional=True))
        self.addParameter(QgsProcessingParameterFile(
            self.MAPPING, self.tr("Field mapping (YAML/JSON)"), optional=True,
            fileFilter=self.tr("Mapping (*.yaml *.yml *.json)")))
        self.addParameter(QgsProcessingParameterCrs(
            self.CRS, self.tr("CRS of a file without one (empty: the project's)"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.ENCODING, self.tr("Text encoding (empty: detected)"), optional=True))
        self.addParameter(QgsProcessingParameterString(self.BATCH, self.tr("Batch name"), optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.REPORT, self.tr("Report (HTML; an XLSX of the rejects is written beside it)"),
            self.tr("HTML files (*.html)"), optional=True, createByDefault=False))
        for key, label in ((self.RECORDS_IN, "Records in"), (self.ACCEPTED, "Accepted"),
                           (self.REJECTED, "Rejected"), (self.UPDATED, "Updated")):
            self.addOutput(QgsProcessingOutputNumber(key, self.tr(label)))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..layers.errors import InputError, MissingDependency
        from ..layers.importer import import_files, summary_lines

        project = self.parameterAsFile(parameters, self.PROJECT, context)
        path = self.parameterAsFile(parameters, self.FILE, context)
        if not project or not path:
            raise QgsProcessingException(self.tr("A project and a file are needed"))
        crs = self.parameterAsCrs(parameters, self.CRS, context)
        crs = crs.authid() if crs is not None and crs.isValid() else None
        report = self.parameterAsFileOutput(parameters, self.REPORT, context) or None

        def progress(fraction, message=""):
            feedback.setProgress(100.0 * float(fraction))
            if message:
                feedback.setProgressText(str(message))

        try:
            (s,) = import_files(project, [path],
                                layer=(self.parameterAsString(parameters, self.LAYER, context) or "auto").strip(),
                                mapping=self.parameterAsFile(parameters, self.MAPPING, context) or None,
                                crs=crs, encoding=self.parameterAsString(parameters, self.ENCODING, context) or None,
                                batch=self.parameterAsString(parameters, self.BATCH, context) or None,
                                report=report, progress=progress, is_cancelled=feedback.isCanceled)
        except (InputError, MissingDependency) as exc:
            raise self.user_error(exc) from None
        for line in summary_lines(s):
            feedback.pushInfo(line)
        return {self.RECORDS_IN: s["records_in"], self.ACCEPTED: s["accepted"], self.REJECTED: s["rejected"],
                self.UPDATED: s["updated"], self.REPORT: report}


class QuantitiesAlgorithm(RenewalPlannerAlgorithm):
    """``renewal_planner:quantities``: the same as ``renewal-planner quantities`` (tools/quantities.py)."""

    PROJECT = "PROJECT"
    AREA = "AREA"
    OUTPUT = "OUTPUT"
    PIPE_KM = "PIPE_KM"
    HOUSEHOLDS = "HOUSEHOLDS"
    TREES = "TREES"
    STALLS = "STALLS"

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("QuantitiesAlgorithm", text)

    def name(self):
        return "quantities"

    def displayName(self):  # noqa: N802
        return self.tr("Quantities")

    def shortHelpString(self):  # noqa: N802
        return self.tr("Quantities per renovation area and community: pipe length by class, diameter, "
                       "material and status (km), appurtenances, parking stalls, trees, planting area, "
                       "fire lanes, buildings, households and floor area. Writes an XLSX workbook (a summary "
                       "sheet and one sheet per theme, Chinese and English headers) or one long CSV table.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(project_parameter(
            self.PROJECT, self.tr("Project (GeoPackage file or PostGIS connection)")))
        self.addParameter(QgsProcessingParameterString(
            self.AREA, self.tr("Only this renovation area (uid; empty: all)"), optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, self.tr("Quantities file"), self.tr("Excel workbook (*.xlsx);;CSV (*.csv)")))
        for key, label in ((self.PIPE_KM, "Pipes in the areas (km)"), (self.HOUSEHOLDS, "Households"),
                           (self.TREES, "Trees in the areas"), (self.STALLS, "Parking stalls in the areas")):
            self.addOutput(QgsProcessingOutputNumber(key, self.tr(label)))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..layers.errors import InputError, MissingDependency
        from ..tools.quantities import compute_quantities, summary_lines, write_quantities

        self.require("check")
        project = self.parameterAsFile(parameters, self.PROJECT, context)
        out = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        area = (self.parameterAsString(parameters, self.AREA, context) or "").strip() or None
        if not project or not out:
            raise QgsProcessingException(self.tr("A project and an output file are needed"))
        try:
            if os.path.splitext(out)[1].lower() not in (".xlsx", ".csv"):
                raise InputError("quantities are written as .xlsx or .csv", file=out)
            feedback.setProgressText(self.tr("Measuring quantities"))
            result = compute_quantities(project, area=area)
            feedback.setProgress(80)
            write_quantities(result, out)
        except (InputError, MissingDependency) as exc:
            raise self.user_error(exc) from None
        feedback.setProgress(100)
        for line in summary_lines(result):
            feedback.pushInfo(line)
        s = result["summary"]
        total = s[s["scope"] == "total"].iloc[0]

        def num(key):
            v = total.get(key)
            return float(v) if v is not None and v == v else 0.0

        return {self.OUTPUT: out, self.PIPE_KM: num("pipe_km"), self.HOUSEHOLDS: num("households"),
                self.TREES: num("trees"), self.STALLS: num("stalls")}


class ReportAlgorithm(RenewalPlannerAlgorithm):
    """``renewal_planner:report``: the same as ``renewal-planner report`` (tools/report.py)."""

    PROJECT = "PROJECT"
    OUTPUT = "OUTPUT"
    LANG = "LANG"
    MAX_PAGES = "MAX_PAGES"
    PAGES = "PAGES"
    FINDINGS = "FINDINGS"
    LANGS = ("both", "zh", "en")

    def tr(self, text):  # noqa: D102
        return QCoreApplication.translate("ReportAlgorithm", text)

    def name(self):
        return "report"

    def displayName(self):  # noqa: N802
        return self.tr("Findings report")

    def group(self):
        return self.tr("Checks")

    def groupId(self):  # noqa: N802
        return "checks"

    def flags(self):
        # print layouts and fonts belong to the main thread
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def shortHelpString(self):  # noqa: N802
        return self.tr("Writes the report of the project's findings: a PDF (cover with an overview map and "
                       "the summary by rule, severity, certainty and review status; one atlas page per "
                       "open finding, at most the given number, by severity; the list of all findings), "
                       "one self-contained HTML file with the same content, or an XLSX of all findings. "
                       "The format follows the file name (.pdf, .html, .xlsx).")

    def initAlgorithm(self, config=None):  # noqa: N802
        from ..tools.report import DEFAULT_MAX_PAGES

        self.addParameter(project_parameter(
            self.PROJECT, self.tr("Project (GeoPackage file or PostGIS connection)")))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, self.tr("Report"),
            self.tr("PDF (*.pdf);;HTML (*.html);;Excel workbook (*.xlsx)")))
        self.addParameter(QgsProcessingParameterEnum(
            self.LANG, self.tr("Language"), options=[self.tr("Chinese and English"), self.tr("Chinese"),
                                                      self.tr("English")], defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            self.MAX_PAGES, self.tr("Atlas pages at most (open findings, by severity)"),
            QgsProcessingParameterNumber.Integer, DEFAULT_MAX_PAGES, minValue=0))
        self.addOutput(QgsProcessingOutputNumber(self.FINDINGS, self.tr("Number of findings")))
        self.addOutput(QgsProcessingOutputNumber(self.PAGES, self.tr("Pages (PDF)")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from ..layers.errors import InputError, MissingDependency
        from ..tools.engine.context import Cancelled
        from ..tools.report import write_report

        self.require("check")
        project = self.parameterAsFile(parameters, self.PROJECT, context)
        if not project:
            raise QgsProcessingException(self.tr("No project file given"))
        out = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        lang = self.LANGS[self.parameterAsEnum(parameters, self.LANG, context)]
        max_pages = self.parameterAsInt(parameters, self.MAX_PAGES, context)

        def progress(fraction, message=""):
            feedback.setProgress(100.0 * float(fraction))

        try:
            r = write_report(project, out, lang=lang, progress=progress,
                             is_cancelled=feedback.isCanceled, max_pages=max_pages)
        except Cancelled:
            raise QgsProcessingException(self.tr("Canceled: nothing was written")) from None
        except (InputError, MissingDependency) as exc:
            raise self.user_error(exc) from None
        feedback.pushInfo(f"{r['path']}: {r['findings']} findings, {r['open']} open, "
                          f"{r['atlas_pages']} atlas pages")
        return {self.OUTPUT: r["path"], self.FINDINGS: r["findings"], self.PAGES: r.get("pages", 0)}
