"""IdP samples and a loopback replay server for the connector tests.

The replay server is a real HTTP server on 127.0.0.1 (ThreadingHTTPServer, real sockets)
that answers each path with its queue of documented responses, one per request, so a
test can serve a list page by page and put a 429 with Retry-After in front of a page.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "idp"

GOOGLE_FILES = ("google-tokens-list.json", "google-reports-token-activity.json")
ENTRA_FILES = (
    "graph-oauth2PermissionGrants.json",
    "graph-servicePrincipals.json",
    "graph-users.json",
)
OKTA_FILES = ("okta-user-grants.json", "okta-apps.json", "okta-users.json")
# Dates, use and app-only permissions: built from the documented response shapes (see
# tests/assets/idp/README.md), with the ids of the samples above.
ENTRA_ACTIVITY_FILES = (
    "graph-directoryAudits.json",
    "graph-signIns.json",
    "graph-appRoleAssignments.json",
)
OKTA_LOG_FILE = "okta-system-log.json"
# The directoryAudits queries an Entra sweep makes, one per activity, in this order.
AUDIT_ACTIVITIES = (
    "Consent to application",
    "Add delegated permission grant",
    "Remove delegated permission grant",
    "Remove app role assignment from service principal",
)
GRAPH_SP = "5f1e0a9b-0000-4000-8000-00000000a001"
# Microsoft Graph's app roles as its service principal lists them with $select=appRoles
# (ids from merill/microsoft-info GraphAppRoles.csv).
GRAPH_APP_ROLES = [
    {
        "allowedMemberTypes": ["Application"],
        "id": "01d4889c-1287-42c6-ac1f-5d1e02578ef6",
        "value": "Files.Read.All",
        "isEnabled": True,
    },
    {
        "allowedMemberTypes": ["Application"],
        "id": "332a536c-c7ef-4017-ab91-336970924f0d",
        "value": "Sites.Read.All",
        "isEnabled": True,
    },
]


def asset(name: str) -> Path:
    return ASSETS / name


def sample(name: str) -> Any:
    return json.loads(asset(name).read_text(encoding="utf-8"))


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class ReplayServer:
    """Answers GET path (without query) with the next queued Reply; 404 when none is left."""

    def __init__(self) -> None:
        self.queues: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, path: str, *replies: Reply) -> None:
        self.queues.setdefault(path, []).extend(replies)

    def _next(self, path: str) -> Reply:
        with self.lock:
            queue = self.queues.get(path) or []
            return queue.pop(0) if queue else Reply(404, {"error": "nothing queued"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                server.seen.append(
                    Seen(parts.path, dict(parse_qsl(parts.query)), dict(self.headers))
                )
                reply = server._next(parts.path)
                body = json.dumps(reply.body).replace("{base}", server.url).encode("utf-8")
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value.replace("{base}", server.url))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        return Handler


@contextmanager
def replay() -> Iterator[ReplayServer]:
    server = ReplayServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


TOO_MANY = Reply(429, {"error": "rate limited"}, {"Retry-After": "2"})


def google_replay(server: ReplayServer) -> None:
    """users.list in two pages, tokens per user, token events in two pages behind a 429."""
    tokens = sample("google-tokens-list.json")
    users = [
        {
            "id": answer["items"][0]["userKey"],
            "primaryEmail": email,
            "suspended": email == "dave@example.com",
        }
        for email, answer in tokens.items()
    ]
    path = "/admin/directory/v1/users"
    server.add(
        path,
        Reply(body={"kind": "admin#directory#users", "users": users[:2], "nextPageToken": "p2"}),
        Reply(body={"kind": "admin#directory#users", "users": users[2:]}),
    )
    for user, answer in zip(users, tokens.values(), strict=True):
        server.add(f"/admin/directory/v1/users/{user['id']}/tokens", Reply(body=answer))
    events = sample("google-reports-token-activity.json")["items"]
    path = "/admin/reports/v1/activity/users/all/applications/token"
    first = {"kind": "admin#reports#activities", "items": events[:4], "nextPageToken": "e2"}
    admin = "/admin/reports/v1/activity/users/all/applications/admin"
    server.add(admin, Reply(body={"items": []}), Reply(body={"items": []}))
    server.add(
        path,
        TOO_MANY,
        Reply(body=first),
        Reply(body={"kind": "admin#reports#activities", "items": events[4:]}),
    )


def entra_replay(
    server: ReplayServer, activity: bool = False, audits_refused: bool = False
) -> None:
    """Each Graph collection in two pages by @odata.nextLink; a 429 before grants page two.
    Without ``activity`` the audit and sign-in logs are empty and Microsoft Graph lists
    no app roles; with it they serve the activity samples (entra_activity_replay)."""
    for path, name in (
        ("/oauth2PermissionGrants", ENTRA_FILES[0]),
        ("/servicePrincipals", ENTRA_FILES[1]),
        ("/users", ENTRA_FILES[2]),
    ):
        items = sample(name)["value"]
        if path == "/servicePrincipals" and activity:
            items = [
                {**i, "appRoles": GRAPH_APP_ROLES} if i["id"] == GRAPH_SP else i for i in items
            ]
        half = len(items) // 2
        page_two = f"{{base}}{path}/page2"
        server.add(path, Reply(body={"value": items[:half], "@odata.nextLink": page_two}))
        if path == "/oauth2PermissionGrants":
            server.add(f"{path}/page2", TOO_MANY)
        server.add(f"{path}/page2", Reply(body={"value": items[half:]}))
    if activity:
        entra_activity_replay(server, audits_refused)
    else:
        server.add("/auditLogs/directoryAudits", *[Reply(body={"value": []})] * 4)
        server.add("/auditLogs/signIns", Reply(body={"value": []}))


def entra_activity_replay(server: ReplayServer, audits_refused: bool = False) -> None:
    """Graph's app role assignments, the audit events one query per activity, and the
    sign-ins in two pages with a 429 before the second. ``audits_refused``: the first
    directoryAudits query answers 403, as a tenant without the permission does."""
    server.add(
        f"/servicePrincipals/{GRAPH_SP}/appRoleAssignedTo",
        Reply(body=sample(ENTRA_ACTIVITY_FILES[2])),
    )
    audits = sample(ENTRA_ACTIVITY_FILES[0])["value"]
    path = "/auditLogs/directoryAudits"
    if audits_refused:
        denied = {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient"}}
        server.add(path, Reply(403, denied))
    else:
        for name in AUDIT_ACTIVITIES:
            found = [a for a in audits if a["activityDisplayName"] == name]
            server.add(path, Reply(body={"value": found}))
    sign_ins = sample(ENTRA_ACTIVITY_FILES[1])["value"]
    next_page = "{base}/auditLogs/signIns/page2"
    path = "/auditLogs/signIns"
    server.add(path, Reply(body={"value": sign_ins[:3], "@odata.nextLink": next_page}))
    server.add(f"{path}/page2", TOO_MANY, Reply(body={"value": sign_ins[3:]}))


def okta_replay(server: ReplayServer, log: bool = False, log_refused: bool = False) -> None:
    """Users and apps in pages by Link rel="next"; grants per user, one user's behind a 429;
    the System Log empty, or (``log``) the log sample in two pages, or refused with 403."""
    users = sample("okta-users.json")
    server.add(
        "/api/v1/users",
        Reply(body=users[:2], headers={"Link": '<{base}/api/v1/users/next>; rel="next"'}),
    )
    server.add("/api/v1/users/next", Reply(body=users[2:]))
    grants = sample("okta-user-grants.json")
    for user_id, items in grants.items():
        path = f"/api/v1/users/{user_id}/grants"
        if user_id.startswith("00ub"):
            server.add(path, TOO_MANY)
        server.add(path, Reply(body=items))
    apps = sample("okta-apps.json")
    server.add(
        "/api/v1/apps",
        Reply(body=apps[:3], headers={"Link": '<{base}/api/v1/apps/more>; rel="next"'}),
    )
    server.add("/api/v1/apps/more", Reply(body=apps[3:]))
    if log_refused:
        denied = {"errorCode": "E0000006", "errorSummary": "You do not have permission"}
        server.add("/api/v1/logs", Reply(403, denied))
    elif log:
        events = sample(OKTA_LOG_FILE)
        more = {"Link": '<{base}/api/v1/logs/more>; rel="next"'}
        server.add("/api/v1/logs", Reply(body=events[:5], headers=more))
        server.add("/api/v1/logs/more", Reply(body=events[5:]))
    else:
        server.add("/api/v1/logs", Reply(body=[]))
