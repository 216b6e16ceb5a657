"""AI apps and CLI agents: installed as each OS records it, set up, holding credentials, running."""

from __future__ import annotations

import json
import plistlib
import shutil
import subprocess
import sys
import time

import pytest


def info_plist(bundle_id: str, version: str) -> bytes:
    return plistlib.dumps(
        {"CFBundleIdentifier": bundle_id, "CFBundleShortVersionString": version},
        fmt=plistlib.FMT_BINARY,
    )


def apps_in(report: dict) -> dict[str, dict]:
    return {
        f["evidence"]["app"]: f
        for f in report["findings"]
        if f["kind"] in ("app", "cli_agent") and f["source"] == "apps"
    }


def scan(shadowmap, home, root, os_name) -> dict:
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
    return json.loads(run.stdout)


def test_macos_bundles_are_known_by_bundle_id_with_version(make_tree, shadowmap):
    root = make_tree(
        "root",
        {
            "Applications/Claude (work).app/Contents/Info.plist": info_plist(
                "com.anthropic.claudefordesktop", "0.13.64"
            ),
            "Applications/Notes.app/Contents/Info.plist": info_plist("com.apple.Notes", "4.9"),
            "Applications/Broken.app/Contents/Info.plist": b"\x00not a plist",
        },
    )
    home = make_tree(
        "home",
        {
            "Applications/Cursor.app/Contents/Info.plist": info_plist(
                "com.todesktop.230313mzl4w4u92", "1.4.2"
            )
        },
    )
    found = apps_in(scan(shadowmap, home, root, "macos"))
    assert set(found) == {"claude-desktop", "cursor"}
    assert found["claude-desktop"]["evidence"]["version"] == "0.13.64"
    assert found["claude-desktop"]["evidence"]["installed_at"][0].endswith("Claude (work).app")
    assert found["cursor"]["evidence"]["version"] == "1.4.2"
    assert found["cursor"]["evidence"]["installed_time"]


def test_linux_desktop_files_flatpak_and_snap(make_tree, shadowmap):
    root = make_tree(
        "root",
        {
            "usr/share/applications/cursor.desktop": "[Desktop Entry]\nName=Cursor\n"
            "Exec=/opt/cursor/cursor %F\n",
            "var/lib/flatpak/app/dev.zed.Zed/current/active/metadata": "[Application]\n",
            "snap/ollama/1234/bin/ollama": "elf",
            "usr/share/applications/gimp.desktop": "[Desktop Entry]\nName=GIMP\n",
        },
    )
    (root / "snap/ollama/current").symlink_to("1234")
    found = apps_in(scan(shadowmap, make_tree("home", {}), root, "linux"))
    assert set(found) == {"cursor", "zed", "ollama"}
    assert found["ollama"]["evidence"]["version"] == "revision 1234"


def test_cli_agent_credential_files_are_inventory(make_tree, shadowmap):
    home = make_tree(
        "home",
        {
            ".codex/auth.json": json.dumps({"tokens": {"access_token": "opaque"}}),
            ".codex/config.toml": "model = 'gpt-5'\n",
            ".gemini/settings.json": "{}",
            ".gemini/oauth_creds.json": "{}",
            ".claude/settings.json": "{}",
        },
    )
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
    found = apps_in(json.loads(run.stdout))
    assert found["codex-cli"]["evidence"]["credential_files"] == [str(home / ".codex/auth.json")]
    assert "AAM-1.2" in found["codex-cli"]["aam_controls"]
    assert found["gemini-cli"]["evidence"]["credential_files"] == [
        str(home / ".gemini/oauth_creds.json")
    ]
    assert found["claude-code"]["evidence"]["credential_files"] == []
    assert "opaque" not in run.everything


def test_a_running_agent_without_approvals_is_flagged(tmp_path, make_tree, shadowmap):
    fake = tmp_path / "claude"
    shutil.copy(sys.executable, fake)
    child = subprocess.Popen(
        [str(fake), "-c", "import time; time.sleep(30)", "--dangerously-skip-permissions"]
    )
    try:
        time.sleep(0.3)
        run = shadowmap(
            "scan",
            "--home",
            str(make_tree("home", {})),
            "--root",
            str(make_tree("root", {})),
            "--format",
            "json",
        )
    finally:
        child.kill()
        child.wait()
    running = [
        f
        for f in json.loads(run.stdout)["findings"]
        if f["source"] == "processes" and f["evidence"]["app"] == "claude-code"
    ]
    assert len(running) == 1
    assert running[0]["evidence"]["risky_flags"] == ["--dangerously-skip-permissions"]
    assert running[0]["severity"] == "medium" and "without approvals" in running[0]["title"]


@pytest.mark.parametrize("os_name", ["linux", "macos", "windows"])
def test_an_empty_machine_has_no_apps(os_name, make_tree, shadowmap):
    assert apps_in(scan(shadowmap, make_tree("home", {}), make_tree("root", {}), os_name)) == {}


def macho(team: str, identifier: str, fat: bool = False) -> bytes:
    """A minimal signed Mach-O (mach-o/loader.h; cs_blobs.h CodeDirectory v0x20200)."""
    import struct

    ident, team_b = identifier.encode() + b"\0", team.encode() + b"\0"
    cd_len = 52 + len(ident) + len(team_b)
    cd = (
        struct.pack(
            ">IIIIIIIIIBBBBIII",
            0xFADE0C02,
            cd_len,
            0x20200,
            0,
            52,
            52,
            0,
            0,
            0,
            32,
            2,
            0,
            12,
            0,
            0,
            52 + len(ident),
        )
        + ident
        + team_b
    )
    blob = struct.pack(">IIIII", 0xFADE0CC0, 20 + len(cd), 1, 0, 20) + cd
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, 1, 16, 0, 0)
    thin = header + struct.pack("<IIII", 0x1D, 16, 48, len(blob)) + blob
    if not fat:
        return thin
    fat_header = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(
        ">iiIII", 0x01000007, 3, 64, len(thin), 12
    )
    return fat_header.ljust(64, b"\0") + thin


def bundle(bundle_id: str, executable: str, binary: bytes) -> dict:
    plist = plistlib.dumps(
        {
            "CFBundleIdentifier": bundle_id,
            "CFBundleExecutable": executable,
            "CFBundleShortVersionString": "1.0",
        }
    )
    return {"Contents/Info.plist": plist, f"Contents/MacOS/{executable}": binary}


def test_macos_team_id_is_read_and_a_foreign_signer_flagged(make_tree, shadowmap):
    files = {}
    for name, bid, exe, binary in [
        (
            "Claude.app",
            "com.anthropic.claudefordesktop",
            "Claude",
            macho("Q6L2SF6YDW", "com.anthropic.claudefordesktop", fat=True),
        ),
        (
            "Cursor.app",
            "com.todesktop.230313mzl4w4u92",
            "Cursor",
            macho("ABCDE12345", "cursor.fake"),
        ),
        ("Zed.app", "dev.zed.Zed", "zed", b"\x7fELF not a mach-o"),
    ]:
        files |= {f"Applications/{name}/{k}": v for k, v in bundle(bid, exe, binary).items()}
    found = apps_in(scan(shadowmap, make_tree("home", {}), make_tree("root", files), "macos"))
    assert found["claude-desktop"]["evidence"]["team_ids"] == ["Q6L2SF6YDW"]
    assert found["claude-desktop"]["evidence"]["unexpected_signer"] is False
    assert found["claude-desktop"]["severity"] == "info"
    assert found["cursor"]["evidence"]["team_ids"] == ["ABCDE12345"]
    assert found["cursor"]["evidence"]["unexpected_signer"] is True
    assert (
        found["cursor"]["severity"] == "high"
        and "not signed by its vendor" in found["cursor"]["title"]
    )
    assert (
        found["zed"]["evidence"]["team_ids"] == []
        and found["zed"]["evidence"]["unexpected_signer"] is False
    )


def test_windows_uninstall_entries_are_read_by_product_name():
    """The registry itself exists only on Windows; its entries, as winreg returns them,
    go through the same parsing and matching."""
    from shadowmap.agent.sources.installed import by_display_name, matches_product

    entries = [
        {
            "DisplayName": "Cursor (User)",
            "DisplayVersion": "1.4.2",
            "InstallDate": "20261101",
            "InstallLocation": "C:\\Users\\a\\AppData\\Local\\Programs\\cursor",
        },
        {
            "DisplayName": "Ollama version 0.6.5",
            "DisplayVersion": "0.6.5",
            "key": "HKCU\\...\\Uninstall",
        },
        {"DisplayName": "Cursorless", "DisplayVersion": "2"},
        {"DisplayVersion": "no name"},
    ]
    table = by_display_name(entries)
    assert set(table) == {"Cursor (User)", "Ollama version 0.6.5", "Cursorless"}
    assert (
        table["Cursor (User)"].version == "1.4.2"
        and table["Cursor (User)"].installed_at == "2026-11-01"
    )
    assert [n for n in table if matches_product(n, "Cursor")] == ["Cursor (User)"]
    assert [n for n in table if matches_product(n, "Ollama")] == ["Ollama version 0.6.5"]
