"""``create_app(settings)``: the one way the CLI and the tests build the collector.

Opens (and migrates) the database when called, never at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shadowmap.agent import __version__
from shadowmap.server.db import open_database, session_factory
from shadowmap.server.handlers import install_error_handlers
from shadowmap.server.oidc import OidcClient
from shadowmap.server.routes import accounts as accounts_api
from shadowmap.server.routes import (
    devices,
    enroll,
    findings,
    health,
    reports,
    signatures,
    ui,
    ui_admin,
    ui_chart,
    ui_devices,
    ui_export,
    ui_findings,
    ui_oidc,
    ui_people,
    ui_search,
    ui_vendors,
)
from shadowmap.server.routes import grants as grants_api
from shadowmap.server.routes import inventory as inventory_api
from shadowmap.server.routes import people as people_api
from shadowmap.server.routes import repositories as repositories_api
from shadowmap.server.routes import vendors as vendors_api
from shadowmap.server.settings import Settings
from shadowmap.server.templating import page_templates

logger = logging.getLogger(__name__)

# Shipped as package data (pyproject.toml).
STATIC_DIR = Path(__file__).parent / "static"
# OWASP Secure Headers Project; the pages load nothing but their own stylesheet.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        b"base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # same-origin, not no-referrer: browsers then send our own Origin on form posts
    # (no-referrer makes it "null"), which deps.same_origin checks.
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


def create_app(settings: Settings) -> FastAPI:
    engine = open_database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="shadowmap collector",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.sessions = session_factory(engine)
    app.state.templates = page_templates()
    # OIDC sign-in when configured; the IdP is first asked at the first sign-in, not here.
    app.state.oidc = OidcClient(settings.oidc) if settings.oidc else None
    ui_oidc.hide_callback_queries()
    signatures.configure(app)
    for module in (health, enroll, reports, devices, findings, signatures, ui):
        app.include_router(module.router)
    # Issue 6: the inventory's API and pages (docs/collector-api.md, docs/collector.md).
    for extra in (
        vendors_api,
        people_api,
        grants_api,
        inventory_api,
        repositories_api,
        accounts_api,
        ui_vendors,
        ui_people,
        ui_devices,
        ui_findings,
        ui_chart,
        ui_search,
        ui_export,
        ui_admin,
        ui_oidc,
    ):
        app.include_router(extra.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
