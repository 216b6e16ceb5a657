"""The agent's side of the collector API (docs/collector-api.md), over the standard library.

Refuses plain HTTP to anything but loopback; never logs a token, a secret or a body. Kept
on urllib (not requests) so the idle daemon stays small: requests alone costs ~16 MB.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from enum import Enum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shadowmap.agent import __version__
from shadowmap.agent.errors import CollectorError, EnrollmentError, UsageError

if TYPE_CHECKING:
    from shadowmap.agent.enrollment import Enrollment
    from shadowmap.agent.models import HostInfo

logger = logging.getLogger(__name__)

# Seconds to wait for the collector; a laptop on a bad network must not hang a scan.
TIMEOUT = 30
USER_AGENT = f"shadowmap-agent/{__version__}"
JSON = "application/json"
# Statuses that mean "later", not "never" (RFC 9110 15.5.9, 15.5.20, 15.6.4).
RETRY_LATER = frozenset({408, 425, 429, 500, 502, 503, 504})
# A Retry-After longer than this is clamped: a broken proxy must not park a fleet for days.
MAX_RETRY_AFTER = 6 * 3600


class PostStatus(str, Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    NODE_INVALID = "node_invalid"  # the collector does not know our token: enrol again
    REJECTED = "rejected"  # the collector will never take this report (4xx)


@dataclass(frozen=True)
class PostResult:
    status: PostStatus
    detail: str = ""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Message

    def json(self) -> dict[str, object]:
        try:
            data = json.loads(self.body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


class CollectorUnreachable(CollectorError):
    """No answer, a 5xx or a 429: the report stays in the spool for next time."""

    def __init__(self, message: str, hint: str | None = None, retry_after: float | None = None):
        super().__init__(message, hint)
        self.retry_after = retry_after


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_collector_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"collector URL {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UsageError(
            f"refusing plain HTTP to {parts.hostname}: reports would cross the network unencrypted",
            hint="use https:// (the collector's --tls-cert, or a TLS proxy in front of it)",
        )
    return url.rstrip("/")


def retry_after(headers: Message) -> float | None:
    """Seconds from a Retry-After header in its delay-seconds form (RFC 9110 10.2.3)."""
    value = (headers.get("Retry-After") or "").strip()
    if not value.isdigit():
        return None
    return float(min(int(value), MAX_RETRY_AFTER))


class CollectorClient:
    def __init__(self, url: str, ca_file: str | None = None) -> None:
        self.url = check_collector_url(url)
        handlers: list[urllib.request.BaseHandler] = []
        if self.url.startswith("https:"):
            context = ssl.create_default_context(cafile=ca_file)
            handlers.append(urllib.request.HTTPSHandler(context=context))
        # ProxyHandler (HTTPS_PROXY, NO_PROXY) is part of every opener by default.
        self.opener = urllib.request.build_opener(*handlers)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One call; CollectorUnreachable for no answer and for the statuses that mean later."""
        all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        req = urllib.request.Request(self.url + path, body, all_headers, method=method)
        try:
            with self.opener.open(req, timeout=TIMEOUT) as response:
                answer = Answer(response.status, response.read(), response.headers)
        except urllib.error.HTTPError as exc:
            answer = Answer(exc.code, exc.read(), exc.headers)
        except (OSError, ValueError) as exc:  # URLError, timeouts and resets are OSErrors
            raise CollectorUnreachable(
                f"collector {self.url} unreachable: {type(exc).__name__}",
                hint="check the URL and the network; reports wait in the spool meanwhile",
            ) from None
        if answer.status in RETRY_LATER:
            raise CollectorUnreachable(
                f"collector {self.url} answered {answer.status}",
                retry_after=retry_after(answer.headers),
            )
        return answer

    def enroll(self, secret: str, host: HostInfo, os_user: str, email: str | None) -> Enrollment:
        from shadowmap.agent.enrollment import Enrollment

        body = {
            "enroll_secret": secret,
            "machine_id": host.machine_id,
            "hostname": host.hostname,
            "os": host.os.value,
            "os_user": os_user,
            "email": email,
            "agent_version": __version__,
        }
        answer = self.request(
            "POST", "/api/v1/enroll", json.dumps(body).encode(), {"Content-Type": JSON}
        )
        if answer.status == 401:
            raise EnrollmentError(
                "the collector refused the enrol secret",
                hint="compare SHADOWMAP_ENROLL_SECRET (or the secret file) with the collector's",
            )
        if answer.status != 200:
            raise EnrollmentError(f"enrolment failed: HTTP {answer.status}")
        data = answer.json()
        return Enrollment(
            collector=self.url,
            device_id=str(data["device_id"]),
            device_token=str(data["device_token"]),
            fingerprint_key=str(data["fingerprint_key"]),
            fingerprint_scope=str(data["fingerprint_scope"]),
        )

    def post_report(self, token: str, body: bytes) -> PostResult:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": JSON}
        answer = self.request("POST", "/api/v1/reports", body, headers)
        if answer.status in (200, 201):
            status = answer.json().get("status", "stored")
            return PostResult(PostStatus.DUPLICATE if status == "duplicate" else PostStatus.STORED)
        if answer.status == 401:
            return PostResult(PostStatus.NODE_INVALID)
        return PostResult(
            PostStatus.REJECTED, f"HTTP {answer.status} {answer.json().get('error', '')}"
        )

    def get_signatures(self, token: str, etag: str | None) -> Answer:
        """The published signature pack: 200 with the envelope, 304 unchanged, 404 none."""
        headers = {"Authorization": f"Bearer {token}"}
        if etag:
            headers["If-None-Match"] = etag
        return self.request("GET", "/api/v1/signatures", None, headers)
