#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what it needs (system packages with
# apt where missing, Python packages into .venv), then runs pytest. `.ci/run` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the suite uses: git (scan-repo), a session D-Bus (notifications),
# Chromium and its driver (browser tests of the collector's pages and of browser-session
# detection).
need_apt=()
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v dbus-run-session >/dev/null 2>&1 || need_apt+=(dbus)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: ${need_apt[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing system packages: ${need_apt[*]} (install them, then run this again)" >&2
    exit 1
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
