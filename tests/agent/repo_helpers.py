"""Real git repositories for the scan-repo tests, made with the git binary in a temp folder.

Each repository carries its own user.name and user.email; no global git config is read.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Keeps the tests from the machine's own git config (git-config(1), ENVIRONMENT).
ISOLATED_GIT = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
DEFAULT_AUTHOR = "Ada Lovelace"
DEFAULT_DATE = "2024-01-02T03:04:05+00:00"


def run_git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, **ISOLATED_GIT, **(env or {})}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


@dataclass(frozen=True)
class GitRepo:
    root: Path

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        return run_git(self.root, *args, env=env)

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def commit(
        self, message: str, *, author: str = DEFAULT_AUTHOR, date: str = DEFAULT_DATE
    ) -> str:
        """Stage everything and commit it as author at date; the new commit's id."""
        self.git("add", "-A")
        email = author.lower().replace(" ", ".") + "@example.test"
        self.git(
            "commit", "-q", "--allow-empty", "-m", message, f"--author={author} <{email}>",
            env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
        )  # fmt: skip
        return self.git("rev-parse", "HEAD")


def make_repo(root: Path) -> GitRepo:
    root.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(root)
    repo.git("init", "-q", "--initial-branch=main")
    repo.git("config", "user.name", DEFAULT_AUTHOR)
    repo.git("config", "user.email", "ada@example.test")
    repo.git("config", "commit.gpgsign", "false")
    return repo
