"""The `shadowmap` command: parses, calls one function per command, renders.

Errors reach the user here and only here (``main``), with the next step and a
documented exit code; heavy modules are imported only by the command that needs them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from shadowmap.agent import __version__
from shadowmap.agent.errors import EXIT_CLEAN, EXIT_FINDINGS, ShadowmapError, UsageError
from shadowmap.agent.models import OSName, Report, Severity

logger = logging.getLogger("shadowmap")

LOGLEVEL_ENV = "SHADOWMAP_LOGLEVEL"


class Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, so main() stays the one exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, hint=f"see `{self.prog} --help`")


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", type=Path, help="read user files from DIR as the home")
    parser.add_argument("--root", type=Path, help="read system-wide paths under DIR, not /")
    parser.add_argument("--no-live", action="store_true", help="skip processes and sockets")
    parser.add_argument("--os", choices=[o.value for o in OSName], help="whose paths to look for")
    parser.add_argument("--state-dir", type=Path, help="shadowmap's own state folder")
    parser.add_argument(
        "--policy", type=Path, help="the organisation's policy (default: the MDM-installed one)"
    )
    parser.add_argument(
        "--all-users",
        action="store_true",
        help="scan every user's home (the default when run as root without --home)",
    )


def _add_output_options(parser: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    parser.add_argument("--format", choices=list(formats), default="text")
    parser.add_argument("--output", type=Path, help="write the result to FILE, not stdout")


def build_parser() -> Parser:
    parser = Parser(prog="shadowmap", description="Finds shadow AI and the credentials it holds.")
    parser.add_argument("--version", action="version", version=f"shadowmap {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="-v info, -vv debug")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    _add_scan_commands(sub)
    _add_agent_commands(sub)
    _add_collector_commands(sub)
    _add_osquery_command(sub)
    schema = sub.add_parser("schema", help="print the report JSON Schema")
    schema.set_defaults(handler=cmd_schema)
    return parser


def _add_scan_commands(sub: argparse._SubParsersAction[Parser]) -> None:
    scan = sub.add_parser("scan", help="scan this machine once and print the inventory")
    _add_source_options(scan)
    _add_output_options(scan, ("text", "json"))
    scan.add_argument("--fail-on", choices=[s.value for s in Severity], help="exit 1 at this")
    scan.set_defaults(handler=cmd_scan)

    repo = sub.add_parser("scan-repo", help="scan a repository's tree and history for keys")
    repo.add_argument("path", type=Path)
    repo.add_argument("--no-history", action="store_true", help="the working tree only")
    repo.add_argument("--staged", action="store_true", help="only files staged for commit")
    repo.add_argument("--since", metavar="REF", help="only commits HEAD has that REF has not")
    repo.add_argument("--baseline", type=Path, metavar="FILE", help="leave out known findings")
    repo.add_argument("--write-baseline", type=Path, metavar="FILE", help="record findings")
    repo.add_argument(
        "--max-key-age", type=int, default=90, metavar="DAYS", help="rotation age (AAM-3.4)"
    )
    repo.add_argument("--references", action="store_true", help="report secret-store refs too")
    repo.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _add_output_options(repo, ("text", "json", "sarif"))
    repo.set_defaults(handler=cmd_scan_repo)


def _add_agent_commands(sub: argparse._SubParsersAction[Parser]) -> None:
    agent = sub.add_parser("agent", help="the endpoint agent")
    agent_sub = agent.add_subparsers(dest="agent_command", required=True, parser_class=Parser)
    once = agent_sub.add_parser("once", help="enrol if needed, scan, send the report")
    once.add_argument("--collector", required=True, help="the collector's URL")
    once.add_argument("--enroll-secret-file", type=Path, help="file holding the enrol secret")
    once.add_argument("--email", help="the user's email, as MDM knows it")
    once.add_argument("--ca-file", help="CA bundle that signs the collector's TLS certificate")
    _add_source_options(once)
    once.set_defaults(handler=cmd_agent_once)
    _add_daemon_commands(agent_sub)


def _add_db_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (default: a SQLite file in the state folder)")
    parser.add_argument("--state-dir", type=Path, help="where the default SQLite file lives")


def _add_collector_commands(sub: argparse._SubParsersAction[Parser]) -> None:
    collector = sub.add_parser("collector", help="the collector service")
    col_sub = collector.add_subparsers(dest="collector_command", required=True, parser_class=Parser)
    serve = col_sub.add_parser("serve", help="run the collector")
    serve.add_argument("--listen", default="127.0.0.1:8443", help="HOST:PORT (loopback default)")
    serve.add_argument("--tls-cert", type=Path)
    serve.add_argument("--tls-key", type=Path)
    serve.add_argument("--enroll-secret-file", type=Path)
    serve.add_argument("--admin-token-file", type=Path)
    serve.add_argument(
        "--oidc-client-secret-file", type=Path, help="file holding the OIDC client secret"
    )
    _add_db_options(serve)
    serve.set_defaults(handler=cmd_collector_serve)
    _add_publish_command(col_sub)

    grants = col_sub.add_parser("import-grants", help="import OAuth grants from an IdP")
    grants.add_argument("--provider", required=True, choices=["google", "entra", "okta"])
    grants.add_argument("--file", action="append", metavar="F", help="an export file (repeatable)")
    grants.add_argument("--live", action="store_true", help="read the IdP's API instead")
    grants.add_argument("--base-url", help="the API root for --live (required for Okta)")
    grants.add_argument("--token-file", type=Path, help="file holding the --live credential")
    grants.add_argument(
        "--lookback-days",
        type=int,
        metavar="N",
        help="how many days of audit and sign-in logs --live reads (default 30)",
    )
    _add_db_options(grants)
    grants.set_defaults(handler=cmd_collector_import_grants)

    inventory = col_sub.add_parser("report", help="print the AI inventory and its conclusions")
    inventory.add_argument("--format", choices=["json", "csv", "html"], default="json")
    inventory.add_argument("--output", type=Path, help="write the result to FILE, not stdout")
    _add_db_options(inventory)
    inventory.set_defaults(handler=cmd_collector_report)

    fkey = col_sub.add_parser(
        "fingerprint-key", help="print the organisation's fingerprint key for CI secrets"
    )
    _add_db_options(fkey)
    fkey.set_defaults(handler=cmd_collector_fingerprint_key)


def _add_osquery_command(sub: argparse._SubParsersAction[Parser]) -> None:
    osq = sub.add_parser("osquery-extension", help="serve shadowmap's findings as osquery tables")
    osq.add_argument(
        "--socket",
        default="/var/osquery/osquery.em",
        help="osquery's extension manager socket (osqueryd --extensions_socket)",
    )
    osq.add_argument("--max-seconds", type=float, help="stop after this long (tests)")
    # osquery starts extensions with these; accepted so `--extensions_autoload` works.
    osq.add_argument("--timeout", type=float, help=argparse.SUPPRESS)
    osq.add_argument("--interval", type=float, help=argparse.SUPPRESS)
    _add_source_options(osq)
    osq.set_defaults(handler=cmd_osquery_extension)


def _add_daemon_commands(agent_sub: argparse._SubParsersAction[Parser]) -> None:
    run = agent_sub.add_parser(
        "run", help="the fleet daemon: scan, watch, send, notify", allow_abbrev=False
    )
    run.add_argument("--config", type=Path, help="agent.toml (default: the MDM-installed one)")
    run.add_argument("--collector", help="the collector's URL (overrides the config)")
    run.add_argument("--interval", help="seconds (or 15m, 1h) between full scans")
    run.add_argument("--enroll-secret-file", type=Path, help="file holding the enrol secret")
    run.add_argument("--email", help="the user's email, as MDM knows it")
    run.add_argument("--ca-file", help="CA bundle that signs the collector's TLS certificate")
    run.add_argument("--home", type=Path, help="scan this home only, not every user's")
    run.add_argument("--root", type=Path, help="read system-wide paths under DIR, not /")
    run.add_argument("--no-live", action="store_true", help="skip processes and sockets")
    run.add_argument("--state-dir", type=Path, help="shadowmap's own state folder")
    run.add_argument("--policy", type=Path, help="the organisation's policy file")
    run.add_argument("--log-file", type=Path, help="the rotating log (default: in the state dir)")
    run.add_argument("--notify-socket", type=Path, help="where notification helpers connect")
    run.set_defaults(handler=cmd_agent_run)
    helper = agent_sub.add_parser("notify-helper", help="show the daemon's notices (per user)")
    helper.add_argument("--socket", type=Path, help="the daemon's socket (default per OS)")
    helper.add_argument("--state-dir", type=Path, help="the daemon's state folder")
    helper.set_defaults(handler=cmd_agent_notify_helper)
    worker = agent_sub.add_parser("worker", help=argparse.SUPPRESS)  # the daemon's scan child
    worker.set_defaults(handler=cmd_agent_worker)


def _add_publish_command(col_sub: argparse._SubParsersAction[Parser]) -> None:
    pub = col_sub.add_parser("publish-signatures", help="sign a signature pack for agents")
    pub.add_argument("--signing-key", type=Path, required=True, help="Ed25519 private key (PEM)")
    pub.add_argument("--new-key", action="store_true", help="create --signing-key first")
    pub.add_argument("--pack-dir", type=Path, help="the pack's YAML files (default: built-in)")
    pub.add_argument("--serial", type=int, help="a number above the last one (default: now)")
    pub.add_argument("--label", default="", help="a name for this pack, e.g. 2026.12.1")
    pub.add_argument("--output", type=Path, required=True, help="the signed pack file to serve")
    pub.set_defaults(handler=cmd_collector_publish_signatures)


def cmd_agent_run(args: argparse.Namespace) -> int:
    from shadowmap.agent.daemon import run_daemon

    options = ("collector", "interval", "enroll_secret_file", "email", "ca_file", "home", "root",
               "state_dir", "policy", "log_file", "notify_socket")  # fmt: skip
    overrides = {name: getattr(args, name) for name in options}
    overrides["live"] = False if args.no_live else None
    run_daemon(args.config, overrides, args.verbose)
    return EXIT_CLEAN


def cmd_agent_notify_helper(args: argparse.Namespace) -> int:
    from shadowmap.agent.notify.desktop import DesktopNotifier
    from shadowmap.agent.notify.helper import run_helper
    from shadowmap.agent.notify.peers import default_socket
    from shadowmap.agent.state import default_state_dir

    path = args.socket or default_socket(args.state_dir or default_state_dir())
    run_helper(path, DesktopNotifier())
    return EXIT_CLEAN


def cmd_agent_worker(args: argparse.Namespace) -> int:
    from shadowmap.agent.worker import main_stdin

    sys.stdout.write(main_stdin())
    return EXIT_CLEAN


def cmd_collector_publish_signatures(args: argparse.Namespace) -> int:
    from shadowmap.agent.signing import publish

    sys.stdout.write(publish(args.signing_key, args.new_key, args.pack_dir, args.serial,
                             args.label, args.output))  # fmt: skip
    return EXIT_CLEAN


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from exc


def _render(report: Report, fmt: str) -> str:
    from shadowmap.agent.outputs import json_output, text

    return json_output.render(report) if fmt == "json" else text.render(report)


def cmd_scan(args: argparse.Namespace) -> int:
    from shadowmap.agent.runner import scan_from_options

    report = scan_from_options(args)
    _emit(_render(report, args.format), args.output)
    if args.fail_on:
        threshold = Severity(args.fail_on).rank
        if any(f.severity.rank >= threshold for f in report.findings):
            return EXIT_FINDINGS
    return EXIT_CLEAN


def cmd_scan_repo(args: argparse.Namespace) -> int:
    from shadowmap.agent import progress
    from shadowmap.agent.models import FindingKind
    from shadowmap.agent.repo import RepoScanOptions, render_repo_result, scan_repo

    if args.max_key_age < 0:
        raise UsageError("--max-key-age must be 0 or more days", hint="e.g. --max-key-age 90")
    options = RepoScanOptions(
        history=not args.no_history,
        staged=args.staged,
        since=args.since,
        baseline=args.baseline,
        write_baseline=args.write_baseline,
        max_key_age_days=args.max_key_age,
        references=args.references,
        progress=not args.no_progress and progress.wanted(args.format, args.output is None),
    )
    result = scan_repo(args.path, options=options)
    _emit(render_repo_result(result, args.format), args.output)
    leaked = any(f.kind is FindingKind.SECRET for f in result.findings)
    return EXIT_FINDINGS if leaked else EXIT_CLEAN


def cmd_agent_once(args: argparse.Namespace) -> int:
    from shadowmap.agent.agent import run_once

    outcome = run_once(args)
    sys.stderr.write(outcome.describe() + "\n")
    return EXIT_CLEAN


def cmd_collector_serve(args: argparse.Namespace) -> int:
    from shadowmap.server.cli import serve

    serve(args)
    return EXIT_CLEAN


def cmd_collector_import_grants(args: argparse.Namespace) -> int:
    from shadowmap.server.cli import import_grants

    sys.stdout.write(import_grants(args))
    return EXIT_CLEAN


def cmd_collector_report(args: argparse.Namespace) -> int:
    from shadowmap.server.cli import report

    _emit(report(args), args.output)
    return EXIT_CLEAN


def cmd_collector_fingerprint_key(args: argparse.Namespace) -> int:
    from shadowmap.server.cli import fingerprint_key

    sys.stdout.write(fingerprint_key(args))
    return EXIT_CLEAN


def cmd_osquery_extension(args: argparse.Namespace) -> int:
    from shadowmap.agent.osquery_extension import serve
    from shadowmap.agent.runner import scan_from_options

    serve(args.socket, lambda: scan_from_options(args), args.max_seconds)
    return EXIT_CLEAN


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from shadowmap.agent.models import report_json_schema

    sys.stdout.write(json.dumps(report_json_schema(), indent=2, sort_keys=True) + "\n")
    return EXIT_CLEAN


def _setup_logging(verbosity: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    env_level = os.environ.get(LOGLEVEL_ENV, "").upper()
    if env_level in logging.getLevelNamesMapping():
        level = min(level, logging.getLevelNamesMapping()[env_level])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("shadowmap: %(levelname)s: %(message)s"))
    root = logging.getLogger("shadowmap")
    root.handlers[:] = [handler]
    root.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    verbose = 0
    try:
        args = build_parser().parse_args(argv)
        verbose = args.verbose
        _setup_logging(verbose)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except ShadowmapError as exc:
        if verbose:
            logger.exception("details")
        sys.stderr.write(f"shadowmap: error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"shadowmap: next: {exc.hint}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("shadowmap: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
