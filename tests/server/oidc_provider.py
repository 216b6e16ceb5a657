"""A real OpenID provider on 127.0.0.1 for the OIDC tests: discovery, JWKS, /authorize and
/token, as OpenID Connect Core 1.0 and RFC 7636 describe them.

Its RSA key is made when a test runs, and so are the client secret and every code, so the
repository holds no value a secret scanner would flag.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakekeys import chunk

CLIENT_ID = "shadowmap-collector"
KID = "test-key-1"

# Signs an ID token: (header, claims) -> the compact JWS.
Signer = Callable[[dict[str, Any], dict[str, Any]], str]


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def client_secret() -> str:
    """A client secret of the length IdPs issue, made now."""
    return "oidc" + "-" + chunk(40, secrets.randbelow(10**6))


def rs256(key: rsa.RSAPrivateKey) -> Signer:
    def sign(header: dict[str, Any], claims: dict[str, Any]) -> str:
        return jwt.encode(claims, key, algorithm="RS256", headers=header)

    return sign


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """alg none (RFC 7519 6.1): no signature at all."""
    return _segments({**header, "alg": "none"}, claims) + "."


def hs256_with_public_key(key: rsa.RSAPrivateKey) -> Signer:
    """The key-confusion forgery: HS256 keyed with the provider's public key in PEM."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def sign(header: dict[str, Any], claims: dict[str, Any]) -> str:
        signing_input = _segments({**header, "alg": "HS256"}, claims)
        mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(mac)

    return sign


@dataclass
class Grant:
    """One code the provider issued, and what came with its /authorize request."""

    code: str
    redirect_uri: str
    challenge: str
    nonce: str
    used: bool = False


@dataclass
class Provider:
    """The provider's state and knobs; a test changes ``claims``, ``signer`` or ``error``."""

    base_url: str = ""
    client_id: str = CLIENT_ID
    secret: str = field(default_factory=client_secret)
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    # Claims of the next ID tokens, over the defaults; a value None removes the claim.
    claims: dict[str, Any] = field(default_factory=dict)
    signer: Signer | None = None
    error: str | None = None  # the next /authorize answers with this error
    # A page with a Continue link instead of a redirect, as a person signing in at an IdP
    # sees one: the way back then starts on the IdP's site, not the collector's.
    interactive: bool = False
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
    grants: dict[str, Grant] = field(default_factory=dict)
    authorize_queries: list[dict[str, str]] = field(default_factory=list)
    token_answers: list[int] = field(default_factory=list)
    issued_tokens: list[str] = field(default_factory=list)
    client_auth_seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def codes(self) -> list[str]:
        return list(self.grants)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.base_url + "/authorize",
            "token_endpoint": self.base_url + "/token",
            "jwks_uri": self.base_url + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": list(self.auth_methods),
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": "00u-alice-1",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": "alice@example.com",
            "email_verified": True,
            "groups": ["Everyone"],
        }
        for name, value in self.claims.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        signer = self.signer or rs256(self.key)
        return signer({"kid": KID, "typ": "JWT"}, claims)

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """(status, Location or problem) for one /authorize request."""
        self.authorize_queries.append(query)
        wanted = {"response_type": "code", "client_id": self.client_id}
        if any(query.get(k) != v for k, v in wanted.items()):
            return 400, "wrong response_type or client_id"
        if (
            query.get("code_challenge_method") != "S256"
            or len(query.get("code_challenge", "")) != 43
        ):
            return 400, "PKCE S256 is required"
        if "openid" not in query.get("scope", "").split() or not query.get("nonce"):
            return 400, "an OpenID request needs the openid scope and a nonce"
        back = query["redirect_uri"]
        answer = {"state": query.get("state", "")}
        if self.error:
            answer["error"] = self.error
        else:
            code = secrets.token_urlsafe(24)
            self.grants[code] = Grant(code, back, query["code_challenge"], query["nonce"])
            answer["code"] = code
        return 302, back + "?" + urlencode(answer)

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        status, body = self._token(form, authorization)
        self.token_answers.append(status)
        return status, body

    def _token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        client_id, secret = _client_credentials(form, authorization)
        self.client_auth_seen.append("basic" if authorization else "post")
        if client_id != self.client_id or secret != self.secret:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self.lock:
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.used:  # RFC 6749 4.1.2: a code is used once
                return 400, {"error": "invalid_grant"}
            grant.used = True
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "").encode("ascii")
        challenge = _b64(hashlib.sha256(verifier).digest())
        if not hmac.compare_digest(challenge, grant.challenge):  # RFC 7636 4.6
            return 400, {"error": "invalid_grant"}
        token = self.id_token(grant.nonce)
        self.issued_tokens.append(token)
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                     "expires_in": 300, "id_token": token}  # fmt: skip


def _client_credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str]:
    if authorization and authorization.startswith("Basic "):
        decoded = base64.b64decode(authorization[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return unquote_plus(client_id), unquote_plus(secret)
    return form.get("client_id", ""), form.get("client_secret", "")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        provider = self.server.provider
        if parts.path == "/.well-known/openid-configuration":
            self._json(200, provider.discovery())
        elif parts.path == "/jwks":
            self._json(200, provider.jwks())
        elif parts.path == "/authorize":
            status, where = provider.authorize(query)
            if status == 302 and provider.interactive:
                self._continue_page(where)
            elif status == 302:
                self.send_response(302)
                self.send_header("Location", where)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(status, {"error": "invalid_request", "error_description": where})
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        if urlsplit(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        status, body = self.server.provider.token(form, self.headers.get("Authorization"))
        self._json(status, body)

    def _continue_page(self, where: str) -> None:
        link = html.escape(where, quote=True)
        page = (
            '<!doctype html><title>IdP</title><link rel="icon" href="data:,">'
            f'<a id="continue" href="{link}">Continue</a>'
        )
        data = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests read the collector's log, not this one


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    provider: Provider


@contextmanager
def running_provider(host: str = "127.0.0.1") -> Iterator[Provider]:
    """The provider on a free loopback port until the block ends; ``host`` names it in its
    URLs ("localhost" makes it another site than a collector on 127.0.0.1, for a browser)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    provider = Provider(base_url=f"http://{host}:{server.server_address[1]}")
    server.provider = provider
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
