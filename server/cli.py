"""``shadowmap collector serve|import-grants|report``: options in, one server call, text out.

Errors go up as ShadowmapError for ``shadowmap.agent.cli.main`` to print (exit 2 or 3).
"""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from shadowmap.agent.errors import CollectorError
from shadowmap.server.app import create_app
from shadowmap.server.settings import Settings, database_url_from, is_loopback, load_settings

logger = logging.getLogger(__name__)


def serve(args: argparse.Namespace) -> None:
    """Run the collector until interrupted."""
    settings = load_settings(args)
    if not settings.tls and not is_loopback(settings.host):
        logger.warning(
            "serving plain HTTP on %s: put a TLS proxy in front or pass --tls-cert/--tls-key",
            settings.host,
        )
    app = create_app(settings)
    server = uvicorn.Server(_uvicorn_config(app, settings))
    try:
        server.run()
    except SystemExit:
        # uvicorn exits when it cannot bind; say so through main() instead.
        if server.started:
            raise
        raise CollectorError(
            f"could not listen on {settings.host}:{settings.port}",
            hint="is another process on that port? pick another with --listen HOST:PORT",
        ) from None


def _uvicorn_config(app: object, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        server_header=False,
        log_level="info",
    )


def import_grants(args: argparse.Namespace) -> str:
    """Import an IdP's grants from files or its API; the summary to print."""
    from shadowmap.server.grant_import import ImportRequest, describe, files_from, run_import
    from shadowmap.server.idp.interface import DEFAULT_LOOKBACK_DAYS, Provider

    request = ImportRequest(
        database_url=database_url_from(args),
        provider=Provider(args.provider),
        files=files_from(args.file),
        live=args.live,
        base_url=args.base_url,
        token_file=args.token_file,
        lookback_days=DEFAULT_LOOKBACK_DAYS if args.lookback_days is None else args.lookback_days,
    )
    return describe(run_import(request, os.environ))


def report(args: argparse.Namespace) -> str:
    """The inventory of the database in the asked format."""
    from shadowmap.server.report_output import render_report

    return render_report(database_url_from(args), args.format)


def fingerprint_key(args: argparse.Namespace) -> str:
    """The organisation's fingerprint key and scope, for CI (SHADOWMAP_FINGERPRINT_KEY)."""
    from shadowmap.server.db import open_database, session_factory
    from shadowmap.server.org import ensure_org_identity, fingerprint_scope, org_identity

    engine = open_database(database_url_from(args))
    try:
        ensure_org_identity(engine)
        with session_factory(engine)() as session:
            identity = org_identity(session)
            return (
                f"SHADOWMAP_FINGERPRINT_KEY={identity.fingerprint_key}\n"
                f"SHADOWMAP_FINGERPRINT_SCOPE={fingerprint_scope(identity)}\n"
            )
    finally:
        engine.dispose()
