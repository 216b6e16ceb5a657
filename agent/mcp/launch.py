"""How a stdio MCP server is launched: the launcher, the package it fetches, its pin.

npx/bunx/pnpm dlx/yarn dlx/npm exec fetch npm packages, uvx/pipx run fetch PyPI ones,
docker/podman run an image; anything else is a binary or an interpreter and a script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath, PureWindowsPath

# npm-style launchers and the sub-command that makes them fetch (npm docs: npx, npm exec;
# pnpm dlx; yarn dlx; bun x).
NPM_LAUNCHERS = {
    "npx": None,
    "bunx": None,
    "pnpx": None,
    "pnpm": "dlx",
    "yarn": "dlx",
    "npm": "exec",
    "bun": "x",
}
PYPI_LAUNCHERS = {"uvx": None, "pipx": "run", "uv": "tool"}
CONTAINER_LAUNCHERS = frozenset({"docker", "podman", "nerdctl"})
INTERPRETERS = frozenset({"node", "python", "python3", "deno", "bun", "java", "ruby", "go"})
SHELLS = frozenset({"sh", "bash", "zsh", "fish", "cmd", "cmd.exe", "powershell", "pwsh"})
# Options that take a value, per launcher family (their --help; docker run reference).
NPM_VALUE_FLAGS = frozenset({"-p", "--package", "--registry", "--cache", "-c", "--call"})
PYPI_VALUE_FLAGS = frozenset({"--from", "--with", "--python", "-p", "--index-url", "--spec"})
DOCKER_VALUE_FLAGS = frozenset(
    {
        "-e",
        "--env",
        "--env-file",
        "-v",
        "--volume",
        "--mount",
        "--name",
        "-p",
        "--publish",
        "--network",
        "--net",
        "-w",
        "--workdir",
        "-u",
        "--user",
        "--entrypoint",
        "--platform",
        "--cap-add",
        "--cap-drop",
        "-l",
        "--label",
        "--pid",
        "--ipc",
        "--add-host",
        "-h",
        "--hostname",
        "--memory",
        "-m",
        "--cpus",
        "--device",
        "--security-opt",
        "--restart",
    }
)
UNPINNED_TAGS = frozenset({"latest", "next", "main", "master", "beta", "canary", "edge"})


@dataclass(frozen=True)
class Launch:
    launcher: str | None = None  # npx, uvx, docker, node, binary, ...
    package: str | None = None  # the npm/PyPI package or image, without version
    version: str | None = None
    pinned: bool | None = None  # None when nothing is fetched at launch
    binary: str | None = None  # the executable's base name
    shell: bool = False
    container_flags: list[str] = field(default_factory=list)


def _base(command: str) -> str:
    name = PureWindowsPath(command).name if "\\" in command else PurePath(command).name
    return re.sub(r"\.(exe|cmd|bat)$", "", name.lower())


def _first_operand(args: list[str], value_flags: frozenset[str]) -> tuple[int, str | None]:
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--":
            continue
        if arg.startswith("-"):
            skip = arg in value_flags
            continue
        return index, arg
    return -1, None


def _npm_spec(spec: str) -> tuple[str, str | None]:
    at = spec.rfind("@")
    if at > 0:
        return spec[:at], spec[at + 1 :] or None
    return spec, None


def _pypi_spec(spec: str) -> tuple[str, str | None]:
    match = re.match(r"^([A-Za-z0-9_.\-\[\]]+?)\s*(?:==|@|>=|~=)\s*(.+)$", spec)
    return (match.group(1), match.group(2)) if match else (spec, None)


def _pinned(version: str | None) -> bool:
    if not version:
        return False
    return version not in UNPINNED_TAGS and not version.startswith(("^", "~", ">"))


def _npm(launcher: str, args: list[str]) -> Launch:
    flags = ("-p", "--package")
    explicit = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in flags), None)
    _, operand = _first_operand(args, NPM_VALUE_FLAGS)
    spec = explicit or operand
    if spec is None:
        return Launch(launcher=launcher)
    package, version = _npm_spec(spec)
    return Launch(launcher, package, version, _pinned(version), _base(package))


def _pypi(launcher: str, args: list[str]) -> Launch:
    source = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "--from"), None)
    _, operand = _first_operand(args, PYPI_VALUE_FLAGS)
    spec = source or operand
    if spec is None:
        return Launch(launcher=launcher)
    package, version = _pypi_spec(spec)
    return Launch(launcher, package, version, _pinned(version), operand)


def _container(launcher: str, args: list[str]) -> Launch:
    index, image = _first_operand(args, DOCKER_VALUE_FLAGS)
    flags = args[:index] if index >= 0 else args
    if image is None:
        return Launch(launcher=launcher, container_flags=flags)
    version: str | None
    if "@sha256:" in image:
        name, version, pinned = image.split("@", 1)[0], image.split("@", 1)[1], True
    else:
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else None
        name = image[: len(image) - len(tag) - 1] if tag else image
        version, pinned = tag, _pinned(tag)
    return Launch(launcher, name, version, pinned, _base(name), container_flags=flags)


def read_launch(command: str | None, args: list[str]) -> Launch:
    if not command:
        return Launch()
    base = _base(command)
    if base in NPM_LAUNCHERS:
        sub = NPM_LAUNCHERS[base]
        if sub is None:
            return _npm(base, args)
        if args and args[0] == sub:
            return _npm(f"{base} {sub}", args[1:])
    if base in PYPI_LAUNCHERS:
        sub = PYPI_LAUNCHERS[base]
        if sub is None:
            return _pypi(base, args)
        if args and args[0] == sub:
            rest = args[2:] if base == "uv" and args[1:2] == ["run"] else args[1:]
            return _pypi(f"{base} {sub}", rest)
    if base in CONTAINER_LAUNCHERS and args and args[0] == "run":
        return _container(base, args[1:])
    if base in SHELLS:
        return Launch(launcher="shell", binary=base, shell=True)
    if base in INTERPRETERS:
        module = args[1] if len(args) > 1 and args[0] == "-m" else None
        return Launch(launcher=base, package=module, binary=module or base)
    return Launch(launcher="binary", binary=base)


def docker_risks(launch: Launch) -> list[str]:
    """Container options that give the server the host (docker run reference)."""
    flags = launch.container_flags
    joined = " ".join(flags)
    risks = []
    if "--privileged" in flags or "--cap-add" in joined or "--pid=host" in joined:
        risks.append("docker_privileged")
    if re.search(r"--(net|network)[= ]host", joined):
        risks.append("docker_host_network")
    mounts = [flags[i + 1] for i, f in enumerate(flags[:-1]) if f in ("-v", "--volume", "--mount")]
    mounts += [f.split("=", 1)[1] for f in flags if f.startswith(("--volume=", "--mount="))]
    if any(m.startswith("/:") or "docker.sock" in m or "source=/," in m for m in mounts):
        risks.append("docker_host_mount")
    return risks
