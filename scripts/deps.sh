#!/usr/bin/env bash
# Install what this machine lacks, idempotently and quickly when nothing is missing.
#  1. system packages: QGIS + PyQGIS (3.22 on Debian 12, 3.40 on Debian 13), GDAL's
#     Python bindings, Xvfb for the desktop test, PostgreSQL + PostGIS for the
#     PostGIS tests and benchmarks, a CJK font, Qt's lrelease, zip.
#  2. .venv from the system Python with --system-site-packages (PyQGIS stays visible),
#     holding the pinned wheels and the `renewal-planner` command.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SYSPY=/usr/bin/python3
VENV="$ROOT/.venv"

PKGS=(qgis python3-qgis qgis-providers python3-gdal python3-yaml python3-venv python3-pip
      xvfb xauth postgresql postgis fonts-noto-cjk qttools5-dev-tools zip poppler-utils)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! "$SYSPY" -c "import qgis.core" >/dev/null 2>&1; then
  for p in qgis python3-qgis qgis-providers; do
    [[ " ${missing[*]-} " == *" $p "* ]] || missing+=("$p")
  done
fi
if ((${#missing[@]})); then
  echo "deps: installing system packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

NUMPY_PIN=$("$SYSPY" scripts/numpy_pin.py "$SYSPY")
WANT=$(cat requirements.txt requirements-dev.txt; echo "$NUMPY_PIN"; "$SYSPY" --version)
WANT_SUM=$(printf '%s' "$WANT" | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ]; then
  echo "deps: creating .venv (system site packages, for PyQGIS)"
  "$SYSPY" -m venv --system-site-packages "$VENV"
fi
if [ "$(cat "$VENV/.deps-sum" 2>/dev/null)" != "$WANT_SUM" ]; then
  echo "deps: installing pinned Python packages ($NUMPY_PIN)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$NUMPY_PIN" \
      -r requirements.txt -r requirements-dev.txt
  echo "$WANT_SUM" > "$VENV/.deps-sum"
fi

# The package imports as `renewal_planner` whatever this folder is called.
SITE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
mkdir -p "$VENV/pkgroot"
ln -sfn "$ROOT" "$VENV/pkgroot/renewal_planner"
echo "$VENV/pkgroot" > "$SITE/renewal_planner.pth"
cat > "$VENV/bin/renewal-planner" <<PY
#!$VENV/bin/python
import sys
from renewal_planner.cli import main
sys.exit(main())
PY
chmod +x "$VENV/bin/renewal-planner"
