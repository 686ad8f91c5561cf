#!/usr/bin/env bash
# `make run DEMO_DIR=...`: start the QGIS desktop with the plugin installed from
# this working tree and the demo project open.
#  - builds the demo into DEMO_DIR when it is not there yet;
#  - installs the plugin into a dedicated QGIS profile (build/qgis-profiles,
#    profile "renewal_planner"; RP_PROFILES overrides the folder) as a symlink
#    <profile>/python/plugins/renewal_planner -> this tree, enabled in QGIS3.ini;
#  - puts .venv's site-packages first on PYTHONPATH, so QGIS's Python sees the
#    pinned shapely 2, geopandas, pyogrio, rasterio (numpy has the system's major
#    version, so the system's compiled modules keep working).
# Usage: scripts/run_qgis.sh [DEMO_DIR] [extra qgis arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEMO_DIR=${1:-demo-out}
shift || true
VENV="$ROOT/.venv"
PROFILES=${RP_PROFILES:-$ROOT/build/qgis-profiles}
PROFILE=renewal_planner

[ -x "$VENV/bin/python" ] || { echo "run: no .venv; run 'make deps' first" >&2; exit 2; }
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display (DISPLAY is not set); start it from a desktop session or under xvfb-run" >&2
  exit 2
fi

# 1. the demo project
if ! ls "$DEMO_DIR"/*.gpkg >/dev/null 2>&1; then
  echo "run: building the demo in $DEMO_DIR"
  "$VENV/bin/renewal-planner" demo "$DEMO_DIR"
fi
OPEN=$(ls "$DEMO_DIR"/*.qgz "$DEMO_DIR"/*.qgs 2>/dev/null | head -n1 || true)
if [ -z "$OPEN" ]; then
  GPKG=$(ls "$DEMO_DIR"/*.gpkg | head -n1)
  OPEN="${GPKG%.gpkg}.qgz"
  # a QGIS project with the styled layers, grouped by theme (layers/styles.py)
  QT_QPA_PLATFORM=offscreen "$VENV/bin/python" -c \
    'import sys; from renewal_planner.layers.styles import write_project_file; write_project_file(sys.argv[1], sys.argv[2])' \
    "$GPKG" "$OPEN"
fi

# 2. the plugin in a dedicated profile
PDIR="$PROFILES/profiles/$PROFILE"  # QGIS keeps profiles in <profiles-path>/profiles/<name>
mkdir -p "$PDIR/python/plugins" "$PDIR/QGIS"
ln -sfn "$ROOT" "$PDIR/python/plugins/renewal_planner"
"$VENV/bin/python" - "$PDIR/QGIS/QGIS3.ini" <<'PY'
import configparser, sys
path = sys.argv[1]
ini = configparser.RawConfigParser(strict=False, interpolation=None)
ini.optionxform = str
ini.read(path, encoding="utf-8")
for section, key, value in (("PythonPlugins", "renewal_planner", "true"),
                            ("qgis", "checkVersion", "false"),
                            ("qgis", "showTips", "false")):
    if not ini.has_section(section):
        ini.add_section(section)
    ini.set(section, key, value)
with open(path, "w", encoding="utf-8") as fh:
    ini.write(fh, space_around_delimiters=False)
PY

# 3. QGIS with the .venv's packages first
SITE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
[ "${QT_QPA_PLATFORM:-}" = offscreen ] && unset QT_QPA_PLATFORM  # make exports it for tests
echo "run: qgis --profiles-path $PROFILES --profile $PROFILE $OPEN"
exec qgis --profiles-path "$PROFILES" --profile "$PROFILE" "$@" "$OPEN"
