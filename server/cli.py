"""``shadowmap collector serve``: settings from the options, the app, then uvicorn.

Errors go up as ShadowmapError for ``shadowmap.agent.cli.main`` to print (exit 2 or 3).
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from shadowmap.agent.errors import CollectorError
from shadowmap.server.app import create_app
from shadowmap.server.settings import Settings, is_loopback, load_settings

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
