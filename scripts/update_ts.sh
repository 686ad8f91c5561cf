#!/usr/bin/env bash
# Refresh i18n/renewal_planner_zh.ts from the plugin's tr() / translate() calls,
# keeping the translations already there (pylupdate5, Debian package
# pyqt5-dev-tools). Then translate the new (unfinished) entries by hand or with
# Qt Linguist; `make translations` builds the .qm.
set -euo pipefail
cd "$(dirname "$0")/.."
pylupdate5 -noobsolete $(find plugin -name '*.py' | sort) -ts i18n/renewal_planner_zh.ts
