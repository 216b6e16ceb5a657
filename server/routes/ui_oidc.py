"""OIDC sign-in for the pages: ``GET /login/oidc`` sends the browser to the IdP, and
``GET /login/oidc/callback`` takes its answer, checks it and starts the session.

A failure is the login page with a plain message and a 4xx, and one log line naming the
check that failed; never the code, a token or the client secret (uvicorn's access log
included: ``hide_callback_queries``).
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shadowmap.server import accounts, auth
from shadowmap.server.deps import AppSettings, DbSession
from shadowmap.server.errors import NotFound, SignInRefused, SignInStale
from shadowmap.server.oidc import IDP_SAID_NO, OidcClient, idp_error_name
from shadowmap.server.render import page
from shadowmap.server.routes.ui import login_page, start_session
from shadowmap.server.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False, default_response_class=HTMLResponse)

START_PATH = "/login/oidc"
# Registered at the IdP as the redirect URI, after the collector's base URL.
CALLBACK_PATH = "/login/oidc/callback"
DISABLED = "This account is disabled. Ask an admin of this collector."
# The logger and the argument of uvicorn's access log line that holds the path and query.
ACCESS_LOGGER = "uvicorn.access"
ACCESS_PATH_ARG = 2


def get_oidc(request: Request) -> OidcClient:
    client: OidcClient | None = request.app.state.oidc
    if client is None:
        raise NotFound("OIDC sign-in is not set up on this collector; sign in at /login")
    return client


Oidc = Annotated[OidcClient, Depends(get_oidc)]


@router.get(START_PATH)
def start(request: Request, settings: AppSettings, oidc: Oidc) -> Response:
    pending = auth.new_pending()
    try:
        target = oidc.authorization_url(_redirect_uri(request, settings), pending)
    except SignInRefused as exc:
        return _refused(request, settings, exc)

    response = RedirectResponse(target, status_code=303)
    # Lax, not Strict: the IdP's redirect back is a top-level GET from another site, and a
    # Strict cookie would not come with it (RFC 6265bis, "SameSite Cookies").
    response.set_cookie(
        auth.PENDING_COOKIE,
        auth.sign_pending(settings, pending),
        max_age=auth.PENDING_MAX_AGE_S,
        path=START_PATH,
        httponly=True,
        samesite="lax",
        secure=_https(settings),
    )
    return response


@router.get(CALLBACK_PATH)
def callback(
    request: Request,
    settings: AppSettings,
    session: DbSession,
    oidc: Oidc,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    pending = auth.read_pending(settings, request.cookies.get(auth.PENDING_COOKIE))
    try:
        name = _finish(request, settings, session, oidc, pending, code, state, error)
    except SignInRefused as exc:
        response = _refused(request, settings, exc)
    else:
        # A page, not a redirect: the Strict session cookie is not sent on a redirect chain
        # that began at the IdP's site, so the page's meta refresh makes the next request.
        response = page(request, "signed_in.html", {}, None)
        start_session(response, settings, name)
    response.delete_cookie(
        auth.PENDING_COOKIE, path=START_PATH, httponly=True, samesite="lax", secure=_https(settings)
    )
    return response


def _finish(
    request: Request,
    settings: Settings,
    session: DbSession,
    oidc: OidcClient,
    pending: auth.PendingSignIn | None,
    code: str,
    state: str,
    error: str,
) -> str:
    """The signed-in account's name; SignInRefused on any failure."""
    if pending is None:
        raise SignInStale(None, "no pending sign-in in this browser, or it expired")
    if not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise SignInStale(None, "the state is not this browser's sign-in")
    if error:
        raise SignInRefused(IDP_SAID_NO, f"the IdP answered {idp_error_name(error)}")
    if not code:
        raise SignInStale(None, "the IdP sent no code")

    identity = oidc.redeem(code, _redirect_uri(request, settings), pending)
    role = oidc.role_for(identity)
    account = accounts.oidc_account(
        session, identity.issuer, identity.subject, identity.email, role
    )
    if account is None:
        raise SignInRefused(DISABLED, f"the account of {identity.email} is disabled")

    logger.info("signed in %s by OIDC as %s", account.username, role.value)
    return account.username


def _refused(request: Request, settings: Settings, exc: SignInRefused) -> Response:
    logger.warning("OIDC sign-in refused: %s", exc.reason)
    return login_page(request, settings, exc.status_code, problem=exc.detail)


def _redirect_uri(request: Request, settings: Settings) -> str:
    """The callback's URL: the configured base behind a proxy, else the one asked."""
    base = settings.oidc.redirect_base if settings.oidc else None
    return (base or str(request.base_url).rstrip("/")) + CALLBACK_PATH


def _https(settings: Settings) -> bool:
    base = settings.oidc.redirect_base if settings.oidc else None
    return settings.tls or (base or "").startswith("https://")


class CallbackQueryFilter(logging.Filter):
    """Cuts the query (the code, the state) off callback lines in uvicorn's access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > ACCESS_PATH_ARG:
            path = args[ACCESS_PATH_ARG]
            if isinstance(path, str) and path.startswith(CALLBACK_PATH + "?"):
                shown: list[Any] = list(args)
                shown[ACCESS_PATH_ARG] = CALLBACK_PATH + "?[hidden]"
                record.args = tuple(shown)
        return True


def hide_callback_queries() -> None:
    """Installs CallbackQueryFilter once on uvicorn's access logger."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, CallbackQueryFilter) for f in access.filters):
        access.addFilter(CallbackQueryFilter())
