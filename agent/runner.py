"""From command-line options to a finished scan: the context, the key, the sources."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from shadowmap.agent.context import ScanContext, make_context, this_os
from shadowmap.agent.errors import UsageError
from shadowmap.agent.homes import all_homes
from shadowmap.agent.models import OSName, Report
from shadowmap.agent.policy import load_policy
from shadowmap.agent.redact import FingerprintKey, key_from_env, local_key
from shadowmap.agent.scan import machine_sources, scan_machine
from shadowmap.agent.state import default_state_dir
from shadowmap.signatures import builtin_pack

logger = logging.getLogger(__name__)


def state_dir_from(args: argparse.Namespace) -> Path:
    return args.state_dir or default_state_dir()


def resolve_key(state_dir: Path, enrolled: FingerprintKey | None = None) -> FingerprintKey:
    """The organisation's key where there is one (enrolment, then the environment);
    otherwise a local key whose hashes match only each other (DESIGN.md)."""
    return enrolled or key_from_env() or local_key(state_dir)


def _is_admin() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def wants_all_users(args: argparse.Namespace) -> bool:
    """Every user's home: asked for, or run as root with no --home (the agent's case)."""
    if getattr(args, "all_users", False):
        if args.home is not None:
            raise UsageError("--all-users and --home exclude each other")
        return True
    return args.home is None and args.root is None and _is_admin()


def contexts_from(args: argparse.Namespace, key: FingerprintKey) -> list[ScanContext]:
    """One context per home scanned; only the first reads live sources (they are global)."""
    os_name = OSName(args.os) if args.os else this_os()
    common = dict(
        root=args.root,
        os_name=os_name,
        key=key,
        signatures=builtin_pack(),
        state_dir=state_dir_from(args),
    )
    if not wants_all_users(args):
        return [make_context(home=args.home, live=not args.no_live, **common)]
    homes = all_homes(args.root or Path("/"), os_name)
    if not homes:
        raise UsageError("no user homes found to scan", hint="give --home DIR")
    return [
        make_context(home=h.path, live=not args.no_live and i == 0, user=h.user, **common)
        for i, h in enumerate(homes)
    ]


def scan_from_options(args: argparse.Namespace, key: FingerprintKey | None = None) -> Report:
    policy = load_policy(getattr(args, "policy", None))
    contexts = contexts_from(args, key or resolve_key(state_dir_from(args)))
    return scan_machine(contexts, machine_sources(not args.no_live), policy)
