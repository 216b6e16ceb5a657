#!/usr/bin/env bash
# Builds dist/shadowmap/ (onedir) from a normal, non-editable install of this checkout in a
# throwaway venv. Usage: packaging/pyinstaller/build.sh [OUT_DIR]   (default: ./dist)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/dist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
# A wheel, not -e: the installed tree is what the binary will contain.
"$work/venv/bin/python" -m pip install -q "$top" "pyinstaller>=6.0"
"$work/venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$out" --workpath "$work/build" "$top/packaging/pyinstaller/shadowmap.spec"
echo "built $out/shadowmap/shadowmap"
