"""The collector's request errors; handlers.py alone turns them into responses.

    ShadowmapError (shadowmap.agent.errors)
    └── RequestError             a refused request            status  error code
        ├── RequestInvalid       malformed body or query      422     request_invalid
        │   ├── ReportInvalid    not a schema v1 report       422     report_invalid
        │   └── ImportInvalid    not an export the IdP writes 422     import_invalid
        ├── EnrollSecretInvalid  wrong enrol secret           401     enroll_secret_invalid
        ├── NodeInvalid          unknown or replaced token    401     node_invalid
        ├── AdminTokenInvalid    no or wrong admin token      401     admin_token_invalid
        ├── LoginRequired        a page without a session     401     login_required (UI: /login)
        ├── SignInRefused        an OIDC sign-in failed       401     sign_in_refused (UI: /login)
        │   └── SignInStale      not this browser's, or old   400     sign_in_stale (UI: /login)
        ├── MachineMismatch      not the device's machine id  403     machine_mismatch
        ├── Forbidden            the role may not do this     403     forbidden
        ├── CsrfInvalid          a form without its token     403     csrf_invalid
        ├── NotFound             no such vendor, person, ...  404     not_found
        ├── Conflict             the name is taken            409     conflict
        ├── PayloadTooLarge      body over its size limit     413     payload_too_large
        └── DatabaseUnavailable  the database is unreachable  503     database_unavailable

Every detail says what to do next and never carries a submitted value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from shadowmap.agent.errors import ShadowmapError

# How many validation problems a 422 lists before it says "and N more".
MAX_LISTED_PROBLEMS = 5


class RequestError(ShadowmapError):
    """A refused request: its class fixes the HTTP status and the error code."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    default_detail: ClassVar[str] = "the request was refused"
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.default_detail)

    @property
    def detail(self) -> str:
        return self.message


class RequestInvalid(RequestError):
    status_code = 422
    code = "request_invalid"
    default_detail = "the request body or query is malformed; see docs/collector-api.md"


class ReportInvalid(RequestInvalid):
    code = "report_invalid"
    default_detail = "not a valid schema v1 report; see docs/report-schema.json"


class ImportInvalid(RequestInvalid):
    code = "import_invalid"
    default_detail = "not an export file this provider writes; see docs/collector.md"


class EnrollSecretInvalid(RequestError):
    status_code = 401
    code = "enroll_secret_invalid"
    default_detail = "the enrol secret is wrong; check the one MDM installed on this device"


class NodeInvalid(RequestError):
    status_code = 401
    code = "node_invalid"
    default_detail = "unknown or replaced device token; enrol again"
    headers = {"WWW-Authenticate": "Bearer"}


class AdminTokenInvalid(RequestError):
    status_code = 401
    code = "admin_token_invalid"
    default_detail = "send the admin token or an API token as `Authorization: Bearer <token>`"
    headers = {"WWW-Authenticate": "Bearer"}


class LoginRequired(RequestError):
    status_code = 401
    code = "login_required"
    default_detail = "sign in with the admin token at /login"


class SignInRefused(RequestError):
    """An OIDC sign-in that failed: the detail is for the person, ``reason`` for the log.

    Neither ever holds the code, a token or the client secret."""

    status_code = 401
    code = "sign_in_refused"
    default_detail = "the sign-in did not succeed; try again or ask an admin"

    def __init__(self, detail: str | None, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


class SignInStale(SignInRefused):
    status_code = 400
    code = "sign_in_stale"
    default_detail = "the sign-in was started in another window or took too long; try again"


class MachineMismatch(RequestError):
    status_code = 403
    code = "machine_mismatch"
    default_detail = "the report's host.machine_id is not this device's; enrol this machine"


class Forbidden(RequestError):
    status_code = 403
    code = "forbidden"
    default_detail = "your role may not do this; ask an admin"


class CsrfInvalid(RequestError):
    status_code = 403
    code = "csrf_invalid"
    default_detail = "the form is stale or came from another site; reload the page and try again"


class NotFound(RequestError):
    status_code = 404
    code = "not_found"
    default_detail = "there is no such item; go back to the list"


class Conflict(RequestError):
    status_code = 409
    code = "conflict"
    default_detail = "that name is taken; pick another"


class PayloadTooLarge(RequestError):
    status_code = 413
    code = "payload_too_large"
    default_detail = "the body is over the size limit"


class DatabaseUnavailable(RequestError):
    status_code = 503
    code = "database_unavailable"
    default_detail = "the collector cannot reach its database; try again later"


def describe_problems(errors: Iterable[Mapping[str, Any]]) -> str:
    """Pydantic's or FastAPI's error list as "where: what" lines, without the input values."""
    problems = [f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors]
    listed = "; ".join(problems[:MAX_LISTED_PROBLEMS])
    if len(problems) > MAX_LISTED_PROBLEMS:
        listed += f"; and {len(problems) - MAX_LISTED_PROBLEMS} more"
    return listed or "invalid"


def _where(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"
