#!/usr/bin/env bash
# Strict mypy over the package. mypy cannot follow setuptools' package-dir mapping, so
# this lays the three folders out as the installed namespace (links) and checks that.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/shadowmap"
for part in agent server signatures; do ln -s "$PWD/$part" "$tree/shadowmap/$part"; done
cd "$tree"
exec "$OLDPWD/.venv/bin/mypy" --config-file "$OLDPWD/pyproject.toml" --strict \
  --follow-imports=silent --namespace-packages --explicit-package-bases \
  -p shadowmap.agent -p shadowmap.signatures -p shadowmap.server "$@"
