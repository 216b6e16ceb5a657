"""From command-line options to a finished scan: the context, the key, the sources."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from shadowmap.agent.context import ScanContext, make_context
from shadowmap.agent.models import OSName, Report
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


def context_from(args: argparse.Namespace, key: FingerprintKey) -> ScanContext:
    return make_context(
        state_dir=state_dir_from(args),
        home=args.home,
        root=args.root,
        os_name=OSName(args.os) if args.os else None,
        live=not args.no_live,
        key=key,
        signatures=builtin_pack(),
    )


def scan_from_options(args: argparse.Namespace, key: FingerprintKey | None = None) -> Report:
    ctx = context_from(args, key or resolve_key(state_dir_from(args)))
    return scan_machine(ctx, machine_sources(ctx.live))
