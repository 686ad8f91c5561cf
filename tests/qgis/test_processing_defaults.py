"""The PROJECT of every Processing algorithm on an existing project opens with
the project last opened in the dock, when there is one that still exists."""
from __future__ import annotations

import pytest
from qgis.core import QgsApplication

import renewal_planner
from renewal_planner.plugin.toolbelt import settings

# algorithms that work on an existing project, and the one that makes a new one
ON_PROJECT = ["check", "import", "quantities", "report"]


@pytest.fixture
def processing(qgis_processing, qgis_iface):
    from processing.core.Processing import Processing

    Processing.initialize()
    p = renewal_planner.classFactory(qgis_iface)
    p.initProcessing()
    old = settings.LAST_PROJECT.value()
    yield
    settings.LAST_PROJECT.set(old)
    p.unload()


def project_default(alg_id):
    alg = QgsApplication.processingRegistry().createAlgorithmById(f"renewal_planner:{alg_id}")
    assert alg is not None, alg_id
    return alg.parameterDefinition("PROJECT").defaultValue()


def test_the_dock_project_is_the_default(processing, tmp_path):
    gpkg = tmp_path / "城区.gpkg"
    gpkg.write_bytes(b"")
    settings.LAST_PROJECT.set(str(gpkg))
    assert [project_default(a) for a in ON_PROJECT] == [str(gpkg)] * len(ON_PROJECT)
    pg = "postgresql://planner@localhost:5432/city?schema=renewal"
    settings.LAST_PROJECT.set(pg)
    assert [project_default(a) for a in ON_PROJECT] == [pg] * len(ON_PROJECT)


def test_no_default_without_a_project_or_for_a_missing_file(processing, tmp_path):
    settings.LAST_PROJECT.set("")
    assert [project_default(a) for a in ON_PROJECT] == [None] * len(ON_PROJECT)
    settings.LAST_PROJECT.set(str(tmp_path / "gone.gpkg"))
    assert [project_default(a) for a in ON_PROJECT] == [None] * len(ON_PROJECT)
