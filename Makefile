# Renewal Planner -- see README.md. Everything runs from the working tree.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= demo-out
export QT_QPA_PLATFORM ?= offscreen
PYTEST := $(PY) -m pytest

.PHONY: deps demo test test-unit test-qgis test-postgis test-desktop run package bench translations clean

deps:
	@scripts/deps.sh

# Qt translations: .ts sources in i18n/, .qm built here (not committed).
translations: $(patsubst %.ts,%.qm,$(wildcard i18n/*.ts))
i18n/%.qm: i18n/%.ts
	@lrelease -silent $< -qm $@ 2>/dev/null || /usr/lib/qt5/bin/lrelease -silent $< -qm $@

demo: deps translations
	@$(VENV)/bin/renewal-planner demo $(DEMO_DIR)

# Unit tests run without QGIS (pytest-qgis and pytest-qt disabled); then the
# QGIS tests headless; then the real desktop under Xvfb.
test: deps translations test-unit test-qgis test-postgis test-desktop

test-unit:
	$(PYTEST) -p no:pytest_qgis -p no:pytestqt tests/unit

# Hypothesis's plugin imports a module at the very end of the session, after
# QGIS has exited, through QGIS's import hook: that crashes the process. No
# QGIS test uses hypothesis, so it is left out there.
test-qgis:
	$(PYTEST) -p no:hypothesispytest tests/qgis

# PostGIS store against a throwaway cluster (skips only without PostgreSQL binaries).
test-postgis:
	$(PYTEST) -p no:pytest_qgis -p no:pytestqt tests/postgis

test-desktop:
	$(PYTEST) -p no:pytest_qgis -p no:hypothesispytest tests/desktop

run: deps translations
	@scripts/run_qgis.sh $(DEMO_DIR)

package: translations
	@scripts/package.sh

bench: deps
	@$(PY) -m renewal_planner.bench

clean:
	rm -rf build dist $(DEMO_DIR) i18n/*.qm
