"""The distribution ships every sub-package and its data, under the shadowmap namespace."""

from __future__ import annotations

import tomllib
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
FOLDERS = {
    "agent": "shadowmap.agent",
    "server": "shadowmap.server",
    "signatures": "shadowmap.signatures",
}


def test_every_code_folder_is_a_listed_package():
    listed = set(
        tomllib.loads((TOP / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join([FOLDERS[init.relative_to(TOP).parts[0]], *init.relative_to(TOP).parts[1:-1]])
        for folder in FOLDERS
        for init in (TOP / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_nothing_installs_a_bare_agent_or_server_module(tmp_path):
    import subprocess
    import sys

    probe = (
        "import importlib.util as u; print([u.find_spec(n) is None for n in ('agent', 'server')])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[True, True]"
