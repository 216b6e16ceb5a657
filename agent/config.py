"""The daemon's configuration: defaults, the file MDM writes, managed preferences, environment.

Later layers win: defaults < agent.toml < macOS managed preferences < SHADOWMAP_* variables
< command-line options. The enrol secret comes from a file, the environment or the managed
profile, never from the command line (where `ps` shows it). Imports only the stdlib.
"""

from __future__ import annotations

import logging
import os
import platform
import plistlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from shadowmap.agent.errors import ConfigError

logger = logging.getLogger(__name__)

# Where MDM writes the file (docs/deploy): FHS /etc, macOS /Library/Application Support,
# Windows %ProgramData% (learn.microsoft.com, "Known folders").
CONFIG_FILES = {
    "Linux": Path("/etc/shadowmap/agent.toml"),
    "Darwin": Path("/Library/Application Support/shadowmap/agent.toml"),
    "Windows": Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "shadowmap/agent.toml",
}
CONFIG_ENV = "SHADOWMAP_CONFIG"
# A configuration profile's custom payload lands here (Apple, "Managed Preferences");
# the keys are Fleet's pattern (EnrollSecret, FleetURL) under our own domain.
MANAGED_PLIST = Path("/Library/Managed Preferences/com.shadowmap.agent.plist")
PLIST_KEYS = {"CollectorURL": "collector", "EnrollSecret": "enroll_secret", "Email": "email"}
ENV_PREFIX = "SHADOWMAP_"
# agent/state.py's override of the state folder.
STATE_DIR_ENV = "SHADOWMAP_STATE_DIR"
# A duration is seconds, or a number with s, m, h or d.
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class AgentConfig:
    """Everything `shadowmap agent run` needs; durations in seconds."""

    collector: str = ""
    enroll_secret: str | None = field(default=None, repr=False)
    enroll_secret_file: Path | None = None
    ca_file: str | None = None
    email: str | None = None
    state_dir: Path | None = None
    home: Path | None = None  # one home instead of every user's (tests, single-user hosts)
    root: Path | None = None
    policy: Path | None = None
    live: bool = True
    interval: float = 3600.0  # a full scan; 15-60 min is the anchors' cadence
    jitter: float = 0.1  # +-10%, so a fleet does not scan and post in step
    full_report_interval: float = 86400.0  # every source, changed or not, so the collector heals
    heartbeat_interval: float = 900.0
    debounce: float = 5.0  # editors write a file in several steps
    min_rescan_gap: float = 30.0  # one source is not rescanned more often than this
    watch: bool = True
    spool_max_bytes: int = 64 * 1024 * 1024
    scan_cpu_seconds: int = 600  # RLIMIT_CPU of a scan child
    scan_timeout: float = 1800.0
    backoff_base: float = 5.0
    backoff_max: float = 1800.0
    log_file: Path | None = None
    notify_socket: Path | None = None
    signature_public_key: str | None = None  # base64 Ed25519 key; no key, no pulled packs
    signatures_interval: float = 21600.0

    def to_overrides(self) -> dict[str, str]:
        """As strings that ``load_config`` takes back (for a child process); no secret."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and f.name != "enroll_secret":
                out[f.name] = str(value).lower() if isinstance(value, bool) else str(value)
        return out


def _duration(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration (e.g. 90, 15m, 1h)")
    return float(match[1]) * UNITS[match[2]]


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise ValueError(f"{value!r} is not true or false")
    return text in ("1", "true", "yes", "on")


def _converter(name: str, default: Any) -> Callable[[Any], Any]:
    if isinstance(default, bool):
        return _boolean
    if isinstance(default, float):
        return _duration
    if isinstance(default, int):
        return int
    if name.endswith(("_dir", "_file", "home", "root", "policy", "_socket")):
        return lambda v: Path(str(v)).expanduser()
    return str


def _apply(config: AgentConfig, values: Mapping[str, Any], where: str) -> AgentConfig:
    known = {f.name: f.default for f in fields(AgentConfig)}
    changes = {}
    for name, value in values.items():
        if name not in known:
            raise ConfigError(f"{where}: unknown setting {name!r}", hint="docs/deploy lists them")
        try:
            changes[name] = _converter(name, known[name])(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {name}: {exc}") from None
    return replace(config, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    agent = data.get("agent", data)  # settings at the top or under [agent]
    return {k: v for k, v in agent.items() if not isinstance(v, dict)}


def _read_managed_plist(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = plistlib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, plistlib.InvalidFileException) as exc:
        logger.warning("managed preferences %s not read: %s", path, type(exc).__name__)
        return {}
    known = {f.name for f in fields(AgentConfig)}
    values = {PLIST_KEYS.get(k, k): v for k, v in data.items()}
    ignored = sorted(k for k in values if k not in known and not k.startswith("Payload"))
    if ignored:
        logger.warning("managed preferences: ignored unknown keys %s", ", ".join(ignored))
    return {k: v for k, v in values.items() if k in known}


def _from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    names = {f.name for f in fields(AgentConfig)}
    wanted = {ENV_PREFIX + n.upper(): n for n in names}
    return {wanted[k]: v for k, v in environ.items() if k in wanted and v != ""}


def load_config(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> AgentConfig:
    """The merged configuration; a named file that is missing is an error, the default
    file's absence is not."""
    env = os.environ if environ is None else environ
    explicit = path or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    file = explicit or CONFIG_FILES.get(platform.system(), CONFIG_FILES["Linux"])
    config = AgentConfig()
    if file.is_file():
        config = _apply(config, _read_toml(file), str(file))
    elif explicit:
        raise ConfigError(f"config file {file} does not exist", hint="check --config")
    if platform.system() == "Darwin":
        config = _apply(config, _read_managed_plist(MANAGED_PLIST), str(MANAGED_PLIST))
    config = _apply(config, _from_environment(env), "environment")
    config = _apply(
        config, {k: v for k, v in (overrides or {}).items() if v is not None}, "options"
    )
    return _checked(config)


def _checked(config: AgentConfig) -> AgentConfig:
    if not config.collector:
        raise ConfigError(
            "no collector URL is configured",
            hint=f"set collector in {CONFIG_FILES['Linux']} (or SHADOWMAP_COLLECTOR, --collector)",
        )
    if config.interval < 1 or config.debounce < 0 or not 0 <= config.jitter < 1:
        raise ConfigError("interval must be 1 s or more, debounce 0 or more, jitter 0 to 0.99")
    return config


def state_dir(config: AgentConfig) -> Path:
    """The configured state folder, else state.default_state_dir()'s answer. Computed here
    because agent/state.py imports the scan context (pydantic, YAML) into the daemon;
    tests/agent/test_daemon_config.py keeps the two equal."""
    if config.state_dir is not None:
        return config.state_dir
    if os.environ.get(STATE_DIR_ENV):
        return Path(os.environ[STATE_DIR_ENV])
    system = platform.system()
    if system == "Windows":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "shadowmap"
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if system == "Darwin":
        base = Path("/Library") if is_root else Path.home() / "Library"
        return base / "Application Support" / "shadowmap"
    if is_root:
        return Path("/var/lib/shadowmap")
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "shadowmap"


def enroll_secret(config: AgentConfig) -> str:
    """The enrol secret from its file, else the environment or the managed profile."""
    if config.enroll_secret_file is not None:
        try:
            secret = config.enroll_secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the enrol secret file {config.enroll_secret_file}: {exc.strerror}"
            ) from None
    else:
        secret = (config.enroll_secret or "").strip()
    if not secret:
        raise ConfigError(
            "no enrol secret",
            hint="set enroll_secret_file in agent.toml, or SHADOWMAP_ENROLL_SECRET",
        )
    return secret
