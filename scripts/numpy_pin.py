"""Print the numpy requirement that keeps the system's numpy major version.

QGIS's own compiled Python modules (osgeo.gdal_array, scipy, matplotlib from
the system) are built against the system numpy: a venv numpy of another major
version breaks them. Debian 12 ships numpy 1.24 (-> numpy 1.26.4),
Debian 13 ships numpy 2.x (-> numpy 2.2.6).
"""
import subprocess
import sys

PINS = {1: "numpy==1.26.4", 2: "numpy==2.2.6"}

system_python = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/python3"
try:
    out = subprocess.run([system_python, "-c", "import numpy; print(numpy.__version__)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    major = int(out.split(".")[0])
except Exception:
    major = 1 if sys.version_info < (3, 12) else 2
print(PINS.get(major, PINS[2]))
