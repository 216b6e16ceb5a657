"""The one place where errors become responses: JSON under /api/, a page everywhere else.

A 500 says only that something failed; the details go to the log, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shadowmap.server.errors import LoginRequired, RequestError, describe_problems

logger = logging.getLogger(__name__)

# docs/collector-api.md: the JSON API lives under /api/; everything else is a page.
API_PREFIX = "/api/"
# Codes for what Starlette itself refuses (unknown path, wrong method, ...).
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
# A value that passed validation but that the database cannot hold.
DATA_ERROR_DETAIL = "a value in the request cannot be stored (e.g. a NUL character); remove it"
# All a 500 ever says (STYLE.md: a 500 never echoes internals).
INTERNAL_DETAIL = "the collector failed to handle this request; its log has the details"


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestError, _on_request_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, _on_data_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)


def error_response(
    request: Request, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    if request.url.path.startswith(API_PREFIX):
        body = {"error": code, "detail": detail}
        return JSONResponse(body, status_code=status, headers=headers)
    templates: Jinja2Templates = request.app.state.templates
    context = {"status": status, "title": HTTPStatus(status).phrase, "detail": detail}
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers
    )


async def _on_request_error(request: Request, exc: RequestError) -> Response:
    if isinstance(exc, LoginRequired) and not request.url.path.startswith(API_PREFIX):
        return RedirectResponse("/login", status_code=303)
    return error_response(request, exc.status_code, exc.code, exc.detail, exc.headers)


async def _on_validation_error(request: Request, exc: RequestValidationError) -> Response:
    detail = describe_problems(exc.errors())
    return error_response(request, 422, "request_invalid", detail)


async def _on_http_exception(request: Request, exc: StarletteHTTPException) -> Response:
    code = HTTP_CODES.get(exc.status_code, "http_error")
    detail = HTTPStatus(exc.status_code).phrase.lower()
    return error_response(request, exc.status_code, code, detail, exc.headers)


async def _on_data_error(request: Request, exc: DataError) -> Response:
    # PostgreSQL refuses a value it cannot store (a NUL character in text, ...); the
    # request's session is rolled back when its dependency closes, so nothing is kept.
    logger.info(
        "refused %s %s: the database cannot store a value", request.method, request.url.path
    )
    return error_response(request, 422, "request_invalid", DATA_ERROR_DETAIL)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    # Starlette re-raises after this: uvicorn logs the traceback and drops the connection,
    # so the client is told not to reuse it.
    logger.error("failed on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return error_response(request, 500, "internal_error", INTERNAL_DETAIL, {"connection": "close"})
