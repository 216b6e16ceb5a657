"""IDE and browser extensions, laid out on disk as each editor and browser keeps them."""

from __future__ import annotations

import json

import pytest


def vscode_ext(publisher: str, name: str, version: str, display: str, desc: str = "") -> dict:
    folder = f"{publisher.lower()}.{name.lower()}-{version}"
    package = {
        "publisher": publisher,
        "name": name,
        "version": version,
        "displayName": display,
        "description": desc,
    }
    return {f"{folder}/package.json": json.dumps(package)}


def chrome_ext(ext_id: str, manifest: dict, locale: dict | None = None) -> dict:
    base = f"Extensions/{ext_id}/{manifest['version']}_0"
    files = {f"{base}/manifest.json": json.dumps(manifest)}
    if locale:
        files[f"{base}/_locales/en/messages.json"] = json.dumps(locale)
    return files


def under(prefix: str, files: dict) -> dict:
    return {f"{prefix}/{k}": v for k, v in files.items()}


CLAUDE_IN_CHROME = "fcoeoabgfenejglbffodgkkbkcdhcgfn"


@pytest.fixture
def home(make_tree):
    files = {}
    files |= under(
        ".vscode/extensions", vscode_ext("GitHub", "copilot", "1.250.0", "GitHub Copilot")
    )
    files |= under(
        ".vscode/extensions",
        vscode_ext("ms-python", "python", "2025.1.0", "Python", "Python language support"),
    )
    files |= under(
        ".vscode/extensions",
        vscode_ext("acme", "helper", "0.1.0", "Acme Helper", "Explain code with an LLM"),
    )
    files |= under(".vscode/extensions", vscode_ext("Continue", "continue", "0.9.0", "Continue"))
    files[".vscode/extensions/.obsolete"] = json.dumps({"continue.continue-0.9.0": True})
    files |= under(".cursor/extensions", vscode_ext("saoudrizwan", "claude-dev", "3.2.1", "Cline"))
    files[".local/share/JetBrains/IntelliJIdea2025.1/ml-llm/lib/ml-llm.jar"] = "jar"
    chrome = ".config/google-chrome/Default"
    files |= under(
        chrome,
        chrome_ext(
            CLAUDE_IN_CHROME,
            {
                "name": "__MSG_appName__",
                "version": "1.0.36",
                "default_locale": "en",
                "permissions": ["debugger", "tabs", "storage", "nativeMessaging"],
                "host_permissions": ["<all_urls>"],
            },
            {"appName": {"message": "Claude"}},
        ),
    )
    files |= under(
        chrome,
        chrome_ext(
            "aaaabbbbccccddddeeeeffffgggghhhh",
            {"name": "Dark Reader", "version": "4.9.1", "permissions": ["storage"]},
        ),
    )
    files |= under(
        ".config/BraveSoftware/Brave-Browser/Profile 2",
        chrome_ext(
            "zzzzyyyyxxxxwwwwvvvvuuuuttttssss",
            {
                "name": "Summarize with GPT",
                "version": "2.0",
                "content_scripts": [{"matches": ["https://*/*"], "js": ["c.js"]}],
                "permissions": ["scripting", "cookies"],
            },
        ),
    )
    files[".mozilla/firefox/ab12.default-release/extensions.json"] = json.dumps(
        {
            "addons": [
                {
                    "id": "chatgpt@openai.example",
                    "type": "extension",
                    "version": "1.2",
                    "location": "app-profile",
                    "defaultLocale": {"name": "ChatGPT sidebar", "description": "Ask ChatGPT"},
                    "userPermissions": {"permissions": ["tabs"], "origins": ["<all_urls>"]},
                },
                {
                    "id": "uBlock0@raymondhill.net",
                    "type": "extension",
                    "version": "1.6",
                    "location": "app-profile",
                    "defaultLocale": {"name": "uBlock Origin"},
                },
                {
                    "id": "builtin-ai@mozilla.org",
                    "type": "extension",
                    "location": "app-builtin",
                    "defaultLocale": {"name": "AI chatbot"},
                },
            ]
        }
    )
    return make_tree("home", files)


def test_extensions_are_found_with_vendor_and_permissions(home, make_tree, shadowmap):
    run = shadowmap(
        "scan",
        "--home",
        str(home),
        "--root",
        str(make_tree("root", {})),
        "--os",
        "linux",
        "--no-live",
        "--format",
        "json",
    )
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    found = {
        (f["kind"], f["evidence"]["host"], f["evidence"]["extension_id"]): f
        for f in report["findings"]
        if f["detector"] == "extensions"
    }
    assert set(found) == {
        ("ide_extension", "vscode", "github.copilot"),
        ("ide_extension", "vscode", "acme.helper"),
        ("ide_extension", "cursor", "saoudrizwan.claude-dev"),
        ("ide_extension", "jetbrains", "ml-llm"),
        ("browser_extension", "chrome", CLAUDE_IN_CHROME),
        ("browser_extension", "brave", "zzzzyyyyxxxxwwwwvvvvuuuuttttssss"),
        ("browser_extension", "firefox", "chatgpt@openai.example"),
    }
    copilot = found[("ide_extension", "vscode", "github.copilot")]
    assert copilot["vendor"] == "github" and copilot["evidence"]["version"] == "1.250.0"
    assert copilot["evidence"]["match"] == "known"
    assert found[("ide_extension", "vscode", "acme.helper")]["evidence"]["match"] == "heuristic"
    claude = found[("browser_extension", "chrome", CLAUDE_IN_CHROME)]
    assert (
        claude["title"] == "Claude in Chrome in Google Chrome" and claude["vendor"] == "anthropic"
    )
    assert claude["evidence"]["name"] == "Claude" and claude["evidence"]["profile"] == "Default"
    assert claude["evidence"]["risky_permissions"] == [
        "<all_urls>",
        "debugger",
        "nativeMessaging",
        "tabs",
    ]
    assert claude["severity"] == "medium" and "AAM-3.5" in claude["aam_controls"]
    brave = found[("browser_extension", "brave", "zzzzyyyyxxxxwwwwvvvvuuuuttttssss")]
    assert brave["evidence"]["risky_permissions"] == ["<all_urls>", "cookies", "scripting"]
    firefox = found[("browser_extension", "firefox", "chatgpt@openai.example")]
    assert firefox["evidence"]["risky_permissions"] == ["<all_urls>", "tabs"]


def test_macos_and_windows_layouts(make_tree, shadowmap):
    home = make_tree(
        "home",
        {
            **under(
                "Library/Application Support/Google/Chrome/Profile 1",
                chrome_ext(CLAUDE_IN_CHROME, {"name": "Claude", "version": "1.0"}),
            ),
            **under(
                "AppData/Local/Microsoft/Edge/User Data/Default",
                chrome_ext(CLAUDE_IN_CHROME, {"name": "Claude", "version": "1.0"}),
            ),
        },
    )
    for os_name, browser in (("macos", "chrome"), ("windows", "edge")):
        report = json.loads(
            shadowmap(
                "scan", "--home", str(home), "--os", os_name, "--no-live", "--format", "json"
            ).stdout
        )
        hosts = [
            f["evidence"]["host"] for f in report["findings"] if f["kind"] == "browser_extension"
        ]
        assert hosts == [browser]


def test_broken_manifests_do_not_stop_the_scan(make_tree, shadowmap):
    home = make_tree(
        "home",
        {
            ".config/google-chrome/Default/Extensions/x1/1.0_0/manifest.json": "{not json",
            ".config/google-chrome/Default/Extensions/x2/1.0_0/manifest.json": "[1, 2]",
            ".vscode/extensions/github.copilot-1.0.0/package.json": "\x00\x01",
            ".mozilla/firefox/p1/extensions.json": json.dumps({"addons": "nope"}),
        ".mozilla/firefox/p2/extensions.json": json.dumps([{"addons": []}]),
        ".cursor/extensions/acme.ai-1.0.0/package.json": json.dumps(["a", "list"]),
        },
    )
    run = shadowmap("scan", "--home", str(home), "--os", "linux", "--no-live", "--format", "json")
    assert run.code == 0 and "Traceback" not in run.stderr
    ids = [
        f["evidence"]["extension_id"]
        for f in json.loads(run.stdout)["findings"]
        if f["detector"] == "extensions"
    ]
    assert sorted(ids) == ["acme.ai", "github.copilot"]
