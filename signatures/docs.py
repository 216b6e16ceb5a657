"""Renders docs/signatures.md from the signature pack, so the docs list exactly what the
agent knows (`python -m shadowmap.signatures.docs > docs/signatures.md`; a test checks)."""

from __future__ import annotations

import sys

from shadowmap.signatures import PerOSPaths, SignaturePack, builtin_pack

OS_NAMES = ("linux", "macos", "windows")
# How each OS names the folders behind the path tokens (agent/context.py resolves them).
SHOWN_AS = {
    "linux": {"{appconfig}": "~/.config"},
    "macos": {"{appconfig}": "~/Library/Application Support"},
    "windows": {
        "{appconfig}": "%APPDATA%",
        "{appdata}": "%APPDATA%",
        "{localappdata}": "%LOCALAPPDATA%",
        "{programdata}": "%ProgramData%",
        "{programfiles}": "%ProgramFiles%",
    },
}

HEADER = """# Signatures

Generated from `signatures/*.yaml` by `python -m shadowmap.signatures.docs`; do not edit
by hand. Every entry names its source in the YAML.

Path syntax: `~/` is the user's home (`--home`); a leading `/` is the system root
(`--root`); `{appconfig}` is where apps keep settings (`~/.config` on Linux,
`~/Library/Application Support` on macOS, `%APPDATA%` on Windows); `{appdata}`,
`{localappdata}`, `{programdata}` and `{programfiles}` are the Windows folders. `*` and
`**` are globs. A project path is relative to a project folder: the home and folders
under it (five levels, skipping dependency, cache and VCS folders) and the projects the
clients record themselves.
"""


def _cell(items: tuple[str, ...] | list[str]) -> str:
    return "<br>".join(f"`{i}`" for i in items) if items else "—"


def _shown(path: str, os_name: str) -> str:
    for token, shown in SHOWN_AS[os_name].items():
        path = path.replace(token, shown)
    return path


def _os_paths(paths: PerOSPaths, os_name: str) -> str:
    return _cell([_shown(p, os_name) for p in paths.for_os(os_name)])


def mcp_clients(pack: SignaturePack) -> list[str]:
    lines = [
        "## MCP clients",
        "",
        f"{len(pack.mcp_clients)} clients. Server maps are read at the keys listed.",
        "",
        "| client | scope | format | keys | Linux | macOS | Windows |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for client in pack.mcp_clients:
        for loc in client.configs:
            row = [
                client.name,
                loc.scope + (" (plugin)" if loc.plugin else ""),
                loc.format,
                _cell(loc.servers_at),
                *(_os_paths(loc.paths, o) for o in OS_NAMES),
            ]
            lines.append("| " + " | ".join(row) + " |")
    listed = [(c.name, p) for c in pack.mcp_clients for p in c.project_lists]
    lines += ["", "Project lists the clients keep, read for more project folders:", ""]
    lines += [f"- {name}: `{p.path}` ({p.keys_at or p.value_at})" for name, p in listed]
    return lines


def mcp_services(pack: SignaturePack) -> list[str]:
    lines = [
        "## Services MCP servers reach",
        "",
        "| service | vendor | reaches | packages, images, binaries | hosts |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in pack.mcp_services:
        vendor = pack.vendor_name(s.vendor) or "—"
        lines.append(
            f"| {s.name} | {vendor} | {s.reaches} | {_cell(s.packages)} | {_cell(s.hosts)} |"
        )
    return lines


def apps(pack: SignaturePack) -> list[str]:
    lines = [
        "## AI apps and CLI agents",
        "",
        "| app | kind | vendor | installed (Linux / macOS / Windows) | executables | processes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for a in pack.apps:
        installed = " / ".join(_os_paths(a.install, o) for o in OS_NAMES)
        row = [
            a.name,
            a.kind,
            pack.vendor_name(a.vendor) or a.vendor,
            installed,
            _cell(a.executables),
            _cell(a.processes),
        ]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def secrets(pack: SignaturePack) -> list[str]:
    lines = [
        "## Credential kinds",
        "",
        "| id | name | vendor | severity | public prefix |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in pack.secrets:
        vendor = pack.vendor_name(s.vendor) or s.vendor or "—"
        lines.append(f"| `{s.id}` | {s.name} | {vendor} | {s.severity} | {_cell(s.prefixes)} |")
    return lines


def render(pack: SignaturePack | None = None) -> str:
    pack = pack or builtin_pack()
    sections = [
        HEADER.splitlines(),
        mcp_clients(pack),
        mcp_services(pack),
        apps(pack),
        secrets(pack),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
