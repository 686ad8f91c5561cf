#!/usr/bin/env bash
# Build the zip that QGIS's plugin manager installs ("Install from ZIP") and that
# the official plugin repository accepts: dist/renewal_planner-<version>.zip whose
# single top folder is renewal_planner/. Usage: scripts/package.sh [OUT_DIR]
# Contents: the files git tracks (or, outside git, the tree) minus development
# files (tests, scripts, CI, docs, caches, demo output), plus the built .qm.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT_DIR=${1:-dist}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
PY=/usr/bin/python3
[ -x "$ROOT/.venv/bin/python" ] && PY="$ROOT/.venv/bin/python"

VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' __init__.py)
[ -n "$VERSION" ] || { echo "package: no __version__ in __init__.py" >&2; exit 2; }

# metadata.txt: every field the official repository requires, and the same version.
for field in name qgisMinimumVersion description about version author email repository \
             tracker homepage license icon hasProcessingProvider; do
  grep -q "^$field=." metadata.txt || { echo "package: metadata.txt lacks $field" >&2; exit 2; }
done
META_VERSION=$(sed -n 's/^version=//p' metadata.txt)
[ "$META_VERSION" = "$VERSION" ] || {
  echo "package: metadata.txt version $META_VERSION != __version__ $VERSION" >&2; exit 2; }
ICON=$(sed -n 's/^icon=//p' metadata.txt)
[ -f "$ICON" ] || { echo "package: icon $ICON missing" >&2; exit 2; }

# Translations (normally built by `make translations` first).
for ts in i18n/*.ts; do
  qm=${ts%.ts}.qm
  if [ ! -f "$qm" ] || [ "$ts" -nt "$qm" ]; then
    lrelease -silent "$ts" -qm "$qm" 2>/dev/null || /usr/lib/qt5/bin/lrelease -silent "$ts" -qm "$qm"
  fi
done

if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  LIST=$(git -C "$ROOT" ls-files)
else
  LIST=$(find . -type f -not -path './.git/*' | sed 's|^\./||')
fi
LIST=$(printf '%s\n' "$LIST"; ls i18n/*.qm 2>/dev/null || true)

ZIP="$OUT_DIR/renewal_planner-$VERSION.zip"
LIST_FILE=$(mktemp)
trap 'rm -f "$LIST_FILE"' EXIT
printf '%s\n' "$LIST" > "$LIST_FILE"
"$PY" - "$ZIP" "$LIST_FILE" <<'PYEOF'
import os, re, sys, zipfile

zip_path, list_file = sys.argv[1], sys.argv[2]
EXCLUDE = re.compile(r"""^(
      \.venv/ | \.git | \.ci/ | \.github/ | tests/ | scripts/ | docs/ | build/ | dist/
    | demo-out/ | bench-out/ | .*__pycache__/ | .*\.pyc$ | .*\.pytest_cache/ | \.hypothesis/
    | Makefile$ | pytest\.ini$ | requirements.*\.txt$ | \.gitignore$ | \.gitattributes$
    | .*\.egg-info/ | .*\.zip$
)""", re.X)
names = sorted({n.strip() for n in open(list_file, encoding="utf-8") if n.strip()})
names = [n for n in names if not EXCLUDE.match(n) and os.path.isfile(n)]
tmp = zip_path + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
    for n in names:
        info = zipfile.ZipInfo("renewal_planner/" + n, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (0o755 if os.access(n, os.X_OK) else 0o644) << 16
        with open(n, "rb") as fh:
            zf.writestr(info, fh.read())
os.replace(tmp, zip_path)
print(f"package: {zip_path} ({len(names)} files)")
PYEOF
