"""The agent's side of the collector API (docs/collector-api.md), over requests.

Refuses plain HTTP to anything but loopback; never logs a token, a secret or a body.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import requests

from shadowmap.agent import __version__
from shadowmap.agent.enrollment import Enrollment
from shadowmap.agent.errors import CollectorError, EnrollmentError, UsageError
from shadowmap.agent.models import HostInfo

logger = logging.getLogger(__name__)

# Seconds to wait for the collector; a laptop on a bad network must not hang a scan.
TIMEOUT = (5, 30)
USER_AGENT = f"shadowmap-agent/{__version__}"


class PostStatus(str, Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    NODE_INVALID = "node_invalid"  # the collector does not know our token: enrol again
    REJECTED = "rejected"  # the collector will never take this report (4xx)


@dataclass(frozen=True)
class PostResult:
    status: PostStatus
    detail: str = ""


class CollectorUnreachable(CollectorError):
    """No answer, or a 5xx: the report stays in the spool for next time."""


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


def _error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


class CollectorClient:
    def __init__(self, url: str, ca_file: str | None = None) -> None:
        self.url = check_collector_url(url)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.verify = ca_file or True

    def _post(self, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.post(self.url + path, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise CollectorUnreachable(
                f"collector {self.url} unreachable: {type(exc).__name__}",
                hint="check the URL and the network; reports wait in the spool meanwhile",
            ) from None
        if response.status_code >= 500:
            raise CollectorUnreachable(f"collector {self.url} answered {response.status_code}")
        return response

    def enroll(self, secret: str, host: HostInfo, os_user: str, email: str | None) -> Enrollment:
        body = {
            "enroll_secret": secret,
            "machine_id": host.machine_id,
            "hostname": host.hostname,
            "os": host.os.value,
            "os_user": os_user,
            "email": email,
            "agent_version": __version__,
        }
        response = self._post("/api/v1/enroll", json=body)
        if response.status_code == 401:
            raise EnrollmentError(
                "the collector refused the enrol secret",
                hint="compare SHADOWMAP_ENROLL_SECRET (or the secret file) with the collector's",
            )
        if response.status_code != 200:
            raise EnrollmentError(f"enrolment failed: HTTP {response.status_code}")
        data = response.json()
        return Enrollment(
            collector=self.url,
            device_id=str(data["device_id"]),
            device_token=str(data["device_token"]),
            fingerprint_key=str(data["fingerprint_key"]),
            fingerprint_scope=str(data["fingerprint_scope"]),
        )

    def post_report(self, token: str, body: bytes) -> PostResult:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        response = self._post("/api/v1/reports", data=body, headers=headers)
        if response.status_code in (200, 201):
            status = response.json().get("status", "stored")
            return PostResult(PostStatus.DUPLICATE if status == "duplicate" else PostStatus.STORED)
        if response.status_code == 401:
            return PostResult(PostStatus.NODE_INVALID)
        if response.status_code in (408, 429):
            raise CollectorUnreachable(f"collector asked to wait (HTTP {response.status_code})")
        return PostResult(
            PostStatus.REJECTED, f"HTTP {response.status_code} {_error_code(response)}"
        )
