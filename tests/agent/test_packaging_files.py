"""packaging/: units verified by systemd-analyze, a .deb built with dpkg-deb and installed
with dpkg --root; macOS plists and profiles and Windows task XML checked for structure."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
PKG = TOP / "packaging"
BINARY = "/opt/shadowmap/shadowmap"
TASK_NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")


def fake_dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "shadowmap").write_text("#!/bin/sh\necho shadowmap 0.1.0\n")
    (dist / "shadowmap").chmod(0o755)
    return dist


def build_deb(dist: Path, out: Path) -> Path:
    run = subprocess.run(
        ["bash", str(PKG / "linux/build-deb.sh"), str(dist), "0.1.0", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return Path(run.stdout.strip().splitlines()[-1])


def dpkg_root(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """dpkg into a throwaway root: its own database, maintainer scripts run chrootless."""
    (root / "var/lib/dpkg/updates").mkdir(parents=True, exist_ok=True)
    (root / "var/lib/dpkg/info").mkdir(exist_ok=True)
    (root / "var/lib/dpkg/status").touch()
    return subprocess.run(
        ["dpkg", f"--root={root}", "--force-script-chrootless", f"--log={root}/dpkg.log", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@needs_dpkg
def test_the_deb_installs_into_a_throwaway_root_and_purges_clean(tmp_path):
    deb = build_deb(fake_dist(tmp_path), tmp_path / "out")
    info = subprocess.run(
        ["dpkg-deb", "--field", str(deb), "Package", "Version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "shadowmap-agent" in info and "0.1.0" in info
    root = tmp_path / "root"
    installed = dpkg_root(root, "-i", str(deb))
    assert installed.returncode == 0, installed.stderr
    assert (root / "opt/shadowmap/shadowmap").is_file()
    assert (root / "usr/bin/shadowmap").readlink() == Path(BINARY)
    assert (root / "lib/systemd/system/shadowmap-agent.service").is_file()
    assert (root / "usr/lib/systemd/user/shadowmap-notify.service").is_file()
    assert (root / "etc/shadowmap/agent.toml").stat().st_mode & 0o777 == 0o600
    assert (root / "etc/shadowmap").stat().st_mode & 0o777 == 0o700

    (root / "var/lib/shadowmap").mkdir(parents=True)  # what a running agent leaves
    assert dpkg_root(root, "--remove", "shadowmap-agent").returncode == 0
    assert (root / "etc/shadowmap/agent.toml").exists()  # a conffile stays until purge
    assert dpkg_root(root, "--purge", "shadowmap-agent").returncode == 0
    assert not (root / "etc/shadowmap/agent.toml").exists()
    assert not (root / "var/lib/shadowmap").exists()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize(
    ("unit", "user"),
    [("linux/shadowmap-agent.service", False), ("linux/shadowmap-notify.service", True)],
)
def test_the_units_pass_systemd_analyze_verify(tmp_path, unit, user):
    # verify checks that ExecStart exists: point it at a stand-in binary.
    dist = fake_dist(tmp_path)
    text = (PKG / unit).read_text().replace(BINARY, str(dist / "shadowmap"))
    copy = tmp_path / Path(unit).name
    copy.write_text(text)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    command = ["systemd-analyze", *(["--user"] if user else []), "verify", str(copy)]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"XDG_RUNTIME_DIR": str(runtime), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr


def test_the_system_unit_is_hardened():
    unit = (PKG / "linux/shadowmap-agent.service").read_text()
    for setting in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "StateDirectory=shadowmap",
        "IOSchedulingClass=idle",
    ):
        assert setting in unit
    assert f"ExecStart={BINARY} agent run" in unit


def test_the_rpm_recipe_installs_what_the_deb_does():
    spec = (PKG / "linux/shadowmap-agent.spec").read_text()
    for section in ("%install", "%post", "%preun", "%files"):
        assert f"\n{section}\n" in spec
    for path in (
        "%{_unitdir}/shadowmap-agent.service",
        "%{_userunitdir}/shadowmap-notify.service",
        "%config(noreplace) %attr(0600, root, root) %{_sysconfdir}/shadowmap/agent.toml",
    ):
        assert path in spec


def load_plist(name: str) -> dict:
    return plistlib.loads((PKG / "macos" / name).read_bytes())


def test_the_launchd_plists_start_the_daemon_and_the_per_user_helper():
    daemon = load_plist("com.shadowmap.agent.plist")
    assert daemon["Label"] == "com.shadowmap.agent" and daemon["RunAtLoad"] is True
    assert daemon["ProgramArguments"] == [BINARY, "agent", "run"]
    helper = load_plist("com.shadowmap.notify.plist")
    assert helper["ProgramArguments"][1:3] == ["agent", "notify-helper"]
    assert helper["LimitLoadToSessionType"] == "Aqua"  # a GUI session, never a daemon
    postinstall = (PKG / "macos/scripts/postinstall").read_text()
    assert (
        "launchctl bootstrap system /Library/LaunchDaemons/com.shadowmap.agent.plist" in postinstall
    )


def test_the_profiles_grant_full_disk_access_and_carry_the_settings():
    from shadowmap.agent.config import MANAGED_PLIST, PLIST_KEYS

    pppc = load_plist("pppc-full-disk-access.mobileconfig")
    (tcc,) = pppc["PayloadContent"]
    assert tcc["PayloadType"] == "com.apple.TCC.configuration-profile-policy"
    (grant,) = tcc["Services"]["SystemPolicyAllFiles"]
    assert grant["Identifier"] == BINARY and grant["IdentifierType"] == "path"
    assert grant["Allowed"] is True and "certificate leaf[subject.OU]" in grant["CodeRequirement"]

    settings = load_plist("agent-settings.mobileconfig")
    (payload,) = settings["PayloadContent"]
    assert payload["PayloadType"] == MANAGED_PLIST.stem  # the managed preferences domain
    assert {"CollectorURL", "EnrollSecret"} <= set(payload) and set(PLIST_KEYS) >= {"CollectorURL"}
    uuids = [p["PayloadUUID"] for p in (pppc, tcc, settings, payload)]
    assert len(set(uuids)) == 4


def test_managed_preferences_reach_the_config(tmp_path, monkeypatch):
    from shadowmap.agent import config as agent_config

    payload = load_plist("agent-settings.mobileconfig")["PayloadContent"][0]
    managed = tmp_path / "com.shadowmap.agent.plist"
    managed.write_bytes(plistlib.dumps(payload))
    values = agent_config._read_managed_plist(managed)
    assert values == {
        "collector": "https://collector.example.com",
        "enroll_secret": "REPLACE-WITH-THE-COLLECTOR-ENROL-SECRET",
    }


@pytest.mark.parametrize(
    ("task", "principal", "trigger"),
    [
        ("shadowmap-agent-task.xml", "t:UserId", "t:BootTrigger"),
        ("shadowmap-notify-task.xml", "t:GroupId", "t:LogonTrigger"),
    ],
)
def test_the_windows_tasks_are_task_scheduler_xml(task, principal, trigger):
    root = ET.parse(PKG / "windows" / task).getroot()
    assert root.tag == f"{{{TASK_NS['t']}}}Task"
    assert root.find(f"t:Triggers/{trigger}", TASK_NS) is not None
    assert root.find(f"t:Principals/t:Principal/{principal}", TASK_NS) is not None
    command = root.find("t:Actions/t:Exec/t:Command", TASK_NS).text
    assert command == r"C:\Program Files\shadowmap\shadowmap.exe"


def test_the_intune_recipe_names_its_commands_and_files():
    readme = (PKG / "windows/intune/README.md").read_text()
    for name in ("install.ps1", "uninstall.ps1", "detect.ps1", "IntuneWinAppUtil.exe"):
        assert name in readme and (
            name == "IntuneWinAppUtil.exe" or (PKG / "windows/intune" / name).exists()
        )
    install = (PKG / "windows/intune/install.ps1").read_text()
    assert "Register-ScheduledTask" in install and "enroll_secret_file" in install
