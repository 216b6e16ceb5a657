"""A home per OS layout with one of each endpoint item yields one finding each, with
vendor and user; an empty home yields none of these kinds."""

from __future__ import annotations

import json
import plistlib

import pytest

KINDS = ("app", "cli_agent", "ide_extension", "browser_extension", "model_files", "browser_session")
# The Perplexity extension's Chrome Web Store id.
PERPLEXITY = "hlgbcneanomplepojfcnclggenpcoldo/2.4_0"  # with its version folder
CHROME = {
    "linux": ".config/google-chrome",
    "macos": "Library/Application Support/Google/Chrome",
    "windows": "AppData/Local/Google/Chrome/User Data",
}
APP = {
    "linux": ("root", "usr/share/applications/jan.desktop", "[Desktop Entry]\nName=Jan\n"),
    "macos": (
        "root",
        "Applications/Jan.app/Contents/Info.plist",
        plistlib.dumps({"CFBundleIdentifier": "jan.ai.app", "CFBundleShortVersionString": "0.6"}),
    ),
    "windows": ("home", "AppData/Local/Programs/jan/Jan.exe", "MZ"),
}


def one_of_each(os_name: str) -> tuple[dict, dict]:
    home = {
        ".vscode/extensions/continue.continue-1.2.0/package.json": json.dumps(
            {
                "publisher": "Continue",
                "name": "continue",
                "version": "1.2.0",
                "displayName": "Continue",
            }
        ),
        f"{CHROME[os_name]}/Default/Extensions/{PERPLEXITY}/manifest.json": json.dumps(
            {"name": "Perplexity", "version": "2.4", "permissions": ["storage"]}
        ),
        ".aider.conf.yml": "model: sonnet\n",
        ".cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B/blobs/a1": "w" * 10,
        f"{CHROME[os_name]}/DevToolsActivePort": "9222\n/devtools/browser/x\n",
    }
    root: dict = {}
    where, rel, content = APP[os_name]
    (home if where == "home" else root)[rel] = content
    return home, root


EXPECTED = {
    "app": ("jan", "jan"),
    "cli_agent": ("aider", "aider"),
    "ide_extension": ("continue.continue", "continue"),
    "browser_extension": ("hlgbcneanomplepojfcnclggenpcoldo", "perplexity"),
    "model_files": ("huggingface", "huggingface"),
    "browser_session": ("devtools_active_port", None),
}


def key_of(finding: dict) -> str:
    ev = finding["evidence"]
    return ev.get("app") or ev.get("extension_id") or ev.get("cache") or ev.get("mechanism")


@pytest.mark.parametrize("os_name", ["linux", "macos", "windows"])
def test_one_finding_per_item(os_name, make_tree, shadowmap):
    home_files, root_files = one_of_each(os_name)
    home, root = make_tree("home", home_files), make_tree("root", root_files)
    run = shadowmap(
        "scan",
        "--home",
        str(home),
        "--root",
        str(root),
        "--os",
        os_name,
        "--no-live",
        "--format",
        "json",
    )
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    found = [f for f in report["findings"] if f["kind"] in KINDS]
    assert sorted((f["kind"], key_of(f)) for f in found) == sorted(
        (kind, key) for kind, (key, _) in EXPECTED.items()
    )
    for f in found:
        assert f["vendor"] == EXPECTED[f["kind"]][1]
        assert f["user"] == report["users"][0]


@pytest.mark.parametrize("os_name", ["linux", "macos", "windows"])
def test_an_empty_home_has_none_of_these(os_name, make_tree, shadowmap):
    run = shadowmap(
        "scan",
        "--home",
        str(make_tree("home", {})),
        "--root",
        str(make_tree("root", {})),
        "--os",
        os_name,
        "--no-live",
        "--format",
        "json",
    )
    assert [f for f in json.loads(run.stdout)["findings"] if f["kind"] in KINDS] == []
