"""Live IdP calls: a bearer credential from the environment or a file, pages, and patience.

Honours 429 and 503 with their Retry-After, and Google's 403 rate-limit reasons with
exponential backoff. The credential is sent in a header only; it never reaches a log,
an error message or a repr.
"""

from __future__ import annotations

import email.utils
import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from shadowmap.server.idp.common import path_only, storable
from shadowmap.server.idp.interface import ApiClient, IdpDenied, IdpError, Page, Provider

logger = logging.getLogger(__name__)

# Where each provider's credential comes from when no --token-file is given (docs/collector.md).
TOKEN_ENV = {
    Provider.GOOGLE: "SHADOWMAP_GOOGLE_TOKEN",
    Provider.ENTRA: "SHADOWMAP_ENTRA_TOKEN",
    Provider.OKTA: "SHADOWMAP_OKTA_TOKEN",
}
# Okta API tokens use their own scheme (developer.okta.com, "Create an API token").
AUTH_SCHEME = {Provider.GOOGLE: "Bearer", Provider.ENTRA: "Bearer", Provider.OKTA: "SSWS"}
# The statuses that mean "slow down" (RFC 6585 429; Graph throttling; Google 503 backend).
RETRY_STATUSES = frozenset({429, 503})
# Google Directory API answers quota excess with 403 and one of these reasons
# (developers.google.com/admin-sdk/directory/v1/limits).
GOOGLE_RATE_REASONS = ("userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded")
# How often one page is tried, and the longest single wait, before giving up.
MAX_ATTEMPTS = 6
MAX_WAIT_S = 120.0
FIRST_BACKOFF_S = 1.0
REQUEST_TIMEOUT_S = 30.0
# The port a URL without one means (RFC 9110 4.2), to compare a next link with --base-url.
DEFAULT_PORTS = {"http": 80, "https": 443}
# The longest IdP error code kept from a refusal (Graph `error.code`, Okta `errorCode`).
MAX_DETAIL = 80


def load_credential(provider: Provider, token_file: Path | None, environ: Mapping[str, str]) -> str:
    """The access token from --token-file, else the provider's environment variable."""
    name = TOKEN_ENV[provider]
    if token_file is not None:
        try:
            value = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise IdpError(
                f"cannot read the {provider.value} credential file {token_file}",
                hint="check --token-file: a readable UTF-8 file holding only the token",
            ) from None
    else:
        value = environ.get(name, "").strip()
    if not value:
        raise IdpError(
            f"no {provider.value} credential is set",
            hint=f"set {name} or pass --token-file FILE (docs/collector.md, live import)",
        )
    return value


class LiveClient(ApiClient):
    """GETs JSON pages from one IdP with its credential, retrying when told to wait."""

    def __init__(
        self,
        provider: Provider,
        base_url: str,
        credential: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"{AUTH_SCHEME[provider]} {credential}",
            "Accept": "application/json",
        }
        self._http = requests.Session()
        self._sleep = sleep
        self.waits: list[float] = []  # every wait taken, for the import's summary

    def __repr__(self) -> str:
        return f"LiveClient({self.provider.value}, {self.base_url!r})"

    def get_json(self, url: str, params: dict[str, str] | None = None) -> Page:
        full = url if url.startswith(("http://", "https://")) else self.base_url + url
        if _origin(full) != _origin(self.base_url):
            # A next-page link elsewhere would take the credential with it: not followed.
            raise IdpError(
                f"{self.provider.value} sent a next-page link to another host "
                f"({urlsplit(full).hostname}), which is not followed",
                hint=f"check --base-url; pages are read from {urlsplit(self.base_url).hostname}",
            )
        for attempt in range(1, MAX_ATTEMPTS + 1):
            response = self._get(full, params)
            wait = self._wait_for(response, attempt)
            if wait is None:
                return self._page(response, full)
            logger.info(
                "%s asked to wait %.1f s (HTTP %d)", self.provider.value, wait, response.status_code
            )
            self.waits.append(wait)
            self._sleep(wait)
        raise IdpError(
            f"{self.provider.value} kept refusing with rate limits after {MAX_ATTEMPTS} tries",
            hint="run the import later, or lower its rate (docs/collector.md)",
        )

    def _get(self, url: str, params: dict[str, str] | None) -> requests.Response:
        try:
            return self._http.get(
                url, params=params, headers=self._headers, timeout=REQUEST_TIMEOUT_S
            )
        except requests.RequestException as exc:
            raise IdpError(
                f"cannot reach {self.provider.value} at {self.base_url}: {type(exc).__name__}",
                hint="check the network and --base-url",
            ) from None

    def _wait_for(self, response: requests.Response, attempt: int) -> float | None:
        """None to take this answer; else how long to wait before asking again."""
        backoff = min(MAX_WAIT_S, FIRST_BACKOFF_S * 2.0 ** (attempt - 1))
        if response.status_code in RETRY_STATUSES:
            return retry_after(response.headers.get("Retry-After"), backoff)
        if response.status_code == 403 and any(r in response.text for r in GOOGLE_RATE_REASONS):
            return backoff
        return None

    def _page(self, response: requests.Response, url: str) -> Page:
        if response.status_code in (401, 403):
            raise IdpDenied(
                f"{self.provider.value} refused the credential (HTTP {response.status_code})",
                hint="the token is expired or lacks the read scopes docs/collector.md lists",
                status=response.status_code,
                detail=error_code(response),
            )
        if response.status_code != 200:
            raise IdpError(
                f"{self.provider.value} answered HTTP {response.status_code} for {path_only(url)}",
                hint="see the collector's log; try again later",
            )
        try:
            body: Any = response.json()
        except (ValueError, RecursionError):  # not JSON, or nested past the recursion limit
            raise IdpError(f"{self.provider.value} sent a page that is not JSON") from None
        if not storable(response.text, body):
            raise IdpError(f"{self.provider.value} sent a page with a NUL or a lone surrogate")
        next_link = response.links.get("next", {}).get("url")
        return Page(body=body, next_link=next_link)


def retry_after(header: str | None, fallback: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not header:
        return fallback
    header = header.strip()
    if header.isascii() and header.isdigit():  # "²" is a digit to str.isdigit, not to float
        return min(MAX_WAIT_S, float(header))
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return fallback
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(MAX_WAIT_S, max(0.0, (when - datetime.now(UTC)).total_seconds()))


def error_code(response: requests.Response) -> str:
    """The IdP's error code from a refusal's body (Graph or Okta shape); "" when none."""
    try:
        body: Any = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    code = error.get("code") if isinstance(error, dict) else body.get("errorCode")
    return str(code)[:MAX_DETAIL] if isinstance(code, str) else ""


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or DEFAULT_PORTS.get(scheme)


def environ() -> Mapping[str, str]:
    return os.environ
