"""OpenID Connect sign-in for the pages: discovery, the authorization request with PKCE, the
code exchange and the ID token check (OpenID Connect Core 1.0 3.1, RFC 7636, RFC 6749 4.1).

Never logs or shows a code, a token or the client secret: a failure is a SignInRefused whose
reason names the check that failed, never a value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import jwt
import requests

from shadowmap.server.auth import PendingSignIn
from shadowmap.server.errors import SignInRefused
from shadowmap.server.settings import OidcSettings, TokenAuth, is_web_url
from shadowmap.server.tables import Role

logger = logging.getLogger(__name__)

# OpenID Connect Discovery 1.0, 4: the provider's metadata, under the issuer without its
# trailing slash.
DISCOVERY_PATH = "/.well-known/openid-configuration"
# RFC 7518 3.1: the asymmetric JWS algorithms, and the key type (kty) each needs. An ID
# token in any other (none, HS256, ...) is refused before a key is looked at, so a public
# key can never serve as an HMAC secret.
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
ASYMMETRIC_ALGORITHMS = tuple(f"{family}{bits}" for family in KEY_TYPES for bits in (256, 384, 512))
# OpenID Connect Discovery 1.0, 3: RS256 must be offered; client_secret_basic is the default.
DEFAULT_ALGORITHMS = ("RS256",)
DEFAULT_TOKEN_AUTH = ("client_secret_basic",)
# Clock skew between the IdP and the collector that exp, iat and nbf may show.
LEEWAY_S = 60
# An ID token issued longer ago than this is no answer to a sign-in started just now
# (OpenID Connect Core 1.0, 3.1.3.7, item 10); the pending sign-in lasts as long.
MAX_TOKEN_AGE_S = 10 * 60
HTTP_TIMEOUT_S = 10
# The provider's metadata is read again after this long; its JWKS is PyJWT's to refresh.
DISCOVERY_TTL_S = 60 * 60
# OpenID Connect Core 1.0, 2: sub is at most 255 ASCII characters.
MAX_SUBJECT = 255
# Error codes of RFC 6749 4.1.2.1 and 5.2 and OpenID Connect Core 1.0 3.1.2.6: logged as
# they are; anything else an IdP sends is logged as "other".
IDP_ERRORS = frozenset(
    {
        "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
        "invalid_scope", "server_error", "temporarily_unavailable", "invalid_client",
        "invalid_grant", "unsupported_grant_type", "interaction_required", "login_required",
        "account_selection_required", "consent_required",
    }
)  # fmt: skip
# No control character either: a NUL cannot be stored (PostgreSQL) and an escape sequence
# would reach the log in the account's name.
EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,253}")

# What the person reads on the login page; never a value from the IdP.
UNAVAILABLE = (
    "The identity provider cannot be reached or answered in a way the collector does not "
    "accept. Try again later; if it keeps failing, ask an admin to read the collector's log."
)
IDP_SAID_NO = "The identity provider did not sign you in. Try again, or ask its admin."
NOT_VERIFIED = (
    "The identity provider's answer could not be verified, so you are not signed in. "
    "Try again; if it keeps failing, ask an admin to read the collector's log."
)
NO_EMAIL = "Your identity provider account has no verified email address, so it cannot sign in."
WRONG_DOMAIN = "Accounts of your email domain may not sign in here."


@dataclass(frozen=True)
class ProviderMetadata:
    """What the collector uses of the discovery document (OpenID Connect Discovery 1.0, 3)."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]  # ours that the IdP lists
    token_auth: TokenAuth


@dataclass(frozen=True)
class Identity:
    """Who the IdP says signed in: the claims the collector uses and nothing more."""

    issuer: str
    subject: str
    email: str
    groups: frozenset[str]


def code_challenge(verifier: str) -> str:
    """RFC 7636 4.2, S256: BASE64URL(SHA256(ASCII(code_verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def idp_error_name(value: str) -> str:
    return value if value in IDP_ERRORS else "other"


class OidcClient:
    """One IdP for one collector process; its metadata and keys are cached here."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: ProviderMetadata | None = None
        self._keys: jwt.PyJWKClient | None = None
        self._fetched_at = 0.0

    def authorization_url(self, redirect_uri: str, pending: PendingSignIn) -> str:
        """Where the browser goes to sign in (OpenID Connect Core 1.0, 3.1.2.1)."""
        endpoint = self.metadata().authorization_endpoint
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.settings.scopes),
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": code_challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)

    def redeem(self, code: str, redirect_uri: str, pending: PendingSignIn) -> Identity:
        """The identity behind an authorization code; SignInRefused if anything is off."""
        metadata = self.metadata()
        id_token = self._exchange(metadata, code, redirect_uri, pending.verifier)
        claims = self._verify(metadata, id_token, pending.nonce)
        return self._identity(claims)

    def role_for(self, identity: Identity) -> Role:
        return Role.ADMIN if identity.groups & self.settings.admin_groups else Role.VIEWER

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > DISCOVERY_TTL_S
            if self._metadata is None or stale:
                self._metadata = discover(self.settings)
                self._keys = jwt.PyJWKClient(self._metadata.jwks_uri, timeout=HTTP_TIMEOUT_S)
                self._fetched_at = time.monotonic()
            return self._metadata

    def _exchange(
        self, metadata: ProviderMetadata, code: str, redirect_uri: str, verifier: str
    ) -> str:
        """The ID token for the code (RFC 6749 4.1.3, RFC 7636 4.5)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        client_id, secret = self.settings.client_id, self.settings.client_secret
        auth = None
        if metadata.token_auth is TokenAuth.BASIC:
            # RFC 6749 2.3.1: both are form-encoded before they go into the Basic header.
            auth = (quote_plus(client_id), quote_plus(secret))
        else:
            form |= {"client_id": client_id, "client_secret": secret}
        response = _call("the token endpoint", "POST", metadata.token_endpoint, form, auth)
        if response.status_code != 200:
            error = _json(response).get("error")
            name = idp_error_name(error) if isinstance(error, str) else "none"
            reason = f"the token endpoint refused the code: HTTP {response.status_code}, {name}"
            raise SignInRefused(NOT_VERIFIED, reason)
        id_token = _json(response).get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused(NOT_VERIFIED, "the token endpoint sent no ID token")
        return id_token

    def _verify(self, metadata: ProviderMetadata, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims once it passes OpenID Connect Core 1.0, 3.1.3.7."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise SignInRefused(NOT_VERIFIED, "the ID token is not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in metadata.algorithms:
            shown = algorithm if isinstance(algorithm, str) and algorithm.isalnum() else "other"
            raise SignInRefused(NOT_VERIFIED, f"the ID token's algorithm {shown[:12]} is refused")
        key = self._signing_key(header, algorithm)
        claims = _decode(id_token, key, algorithm, self.settings)
        _check_claims(claims, nonce, self.settings.client_id)
        return claims

    def _signing_key(self, header: dict[str, Any], algorithm: str) -> Any:
        keys = self._keys
        assert keys is not None  # metadata() made it
        kid = header.get("kid")
        try:
            if isinstance(kid, str):
                found = keys.get_signing_key(kid)
            else:  # OpenID Connect Core 1.0, 10.1: kid may be left out when one key is listed
                (found,) = [k for k in keys.get_jwk_set().keys if k.public_key_use != "enc"]
        except jwt.PyJWKClientConnectionError:
            raise SignInRefused(UNAVAILABLE, "cannot read the IdP's JWKS") from None
        except (jwt.PyJWTError, ValueError):
            raise SignInRefused(NOT_VERIFIED, "no key in the IdP's JWKS is the token's") from None
        if found.key_type != KEY_TYPES[algorithm[:2]]:
            raise SignInRefused(NOT_VERIFIED, "the token's key is not of its algorithm's type")
        return found.key

    def _identity(self, claims: dict[str, Any]) -> Identity:
        email = claims.get("email")
        if not isinstance(email, str) or not EMAIL.fullmatch(email):
            raise SignInRefused(NO_EMAIL, "the ID token carries no email")
        # OpenID Connect Core 1.0, 5.1: email_verified is a boolean; some IdPs send "true".
        verified = claims.get("email_verified", True)
        if verified is not True and verified != "true":
            raise SignInRefused(NO_EMAIL, "the IdP has not verified the email")
        email = email.lower()
        allowed = self.settings.allowed_domains
        if allowed and email.rpartition("@")[2] not in allowed:
            raise SignInRefused(WRONG_DOMAIN, "the email's domain is not allowed")
        groups = claims.get(self.settings.groups_claim)
        if isinstance(groups, str):
            groups = [groups]
        listed = groups if isinstance(groups, list) else []
        named = frozenset(group for group in listed if isinstance(group, str))
        return Identity(self.settings.issuer, claims["sub"], email, named)


def discover(settings: OidcSettings) -> ProviderMetadata:
    """The IdP's discovery document, checked (OpenID Connect Discovery 1.0, 4.3)."""
    url = settings.issuer.rstrip("/") + DISCOVERY_PATH
    response = _call("the discovery document", "GET", url)
    document = _json(response) if response.status_code == 200 else {}
    if document.get("issuer") != settings.issuer:
        reason = f"the discovery document (HTTP {response.status_code}) is not the issuer's"
        raise SignInRefused(UNAVAILABLE, reason)
    endpoints = [document.get(name) for name in ("authorization_endpoint", "token_endpoint")]
    jwks_uri = document.get("jwks_uri")
    urls = [*endpoints, jwks_uri]
    if not all(isinstance(url, str) and is_web_url(url) for url in urls):
        raise SignInRefused(UNAVAILABLE, "the discovery document lacks an https endpoint")
    offered = _names(document, "id_token_signing_alg_values_supported") or DEFAULT_ALGORITHMS
    algorithms = tuple(name for name in ASYMMETRIC_ALGORITHMS if name in offered)
    if not algorithms:
        raise SignInRefused(UNAVAILABLE, "the IdP signs ID tokens with no asymmetric algorithm")
    authorize, token = (str(url) for url in endpoints)
    return ProviderMetadata(
        authorize, token, str(jwks_uri), algorithms, _token_auth(settings, document)
    )


def _token_auth(settings: OidcSettings, document: dict[str, Any]) -> TokenAuth:
    if settings.token_auth is not None:
        return settings.token_auth
    offered = _names(document, "token_endpoint_auth_methods_supported") or DEFAULT_TOKEN_AUTH
    for method in (TokenAuth.BASIC, TokenAuth.POST):
        if method.value in offered:
            return method
    raise SignInRefused(UNAVAILABLE, "the token endpoint takes neither client secret method")


def _names(document: dict[str, Any], name: str) -> tuple[str, ...]:
    """A discovery document's list of names; none when it holds anything but a list."""
    value = document.get(name)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _control(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def _call(
    what: str,
    method: str,
    url: str,
    form: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> requests.Response:
    try:
        return requests.request(
            method,
            url,
            data=form,
            auth=auth,
            headers={"Accept": "application/json"},
            timeout=HTTP_TIMEOUT_S,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise SignInRefused(UNAVAILABLE, f"cannot reach {what}: {type(exc).__name__}") from None


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _decode(id_token: str, key: Any, algorithm: str, settings: OidcSettings) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=[algorithm],
            audience=settings.client_id,
            issuer=settings.issuer,
            leeway=LEEWAY_S,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise SignInRefused(NOT_VERIFIED, "the ID token has expired") from None
    except jwt.InvalidAudienceError:
        raise SignInRefused(NOT_VERIFIED, "the ID token is for another client") from None
    except jwt.InvalidIssuerError:
        raise SignInRefused(NOT_VERIFIED, "the ID token is from another issuer") from None
    except jwt.PyJWTError as exc:
        reason = f"the ID token does not verify: {type(exc).__name__}"
        raise SignInRefused(NOT_VERIFIED, reason) from None
    return claims


def _check_claims(claims: dict[str, Any], nonce: str, client_id: str) -> None:
    """What PyJWT does not check: nonce, azp, the subject's form and the token's age."""
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise SignInRefused(NOT_VERIFIED, "the ID token's nonce is not this sign-in's")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (azp is not None and azp != client_id) or (len(audiences) > 1 and azp is None):
        raise SignInRefused(NOT_VERIFIED, "the ID token was issued to another party (azp)")
    subject = claims["sub"]
    if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT or _control(subject):
        raise SignInRefused(NOT_VERIFIED, "the ID token's subject is malformed")
    issued = claims["iat"]
    if not isinstance(issued, int | float) or time.time() - issued > MAX_TOKEN_AGE_S + LEEWAY_S:
        raise SignInRefused(NOT_VERIFIED, "the ID token was issued too long ago")
