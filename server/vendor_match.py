"""Which catalog vendor an IdP app belongs to, how sure that is, and whether it is a lookalike.

The order is research/idp-anchors.md section 4's: a known client id, then a (verified)
publisher, then the domains of its homepage and redirect URLs, then the display name,
which alone is a low-confidence match: impostors copy names.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from shadowmap.signatures.catalog import Catalog, CatalogVendor, NotAi

logger = logging.getLogger(__name__)

# Words that vendors and impostors add to a product name (idp-anchors s. 4, rule 3).
NAME_NOISE = re.compile(
    r"\b(for (workspace|work|business|teams)|enterprise|inc|llc|pbc)\b|\.ai\b|[.,]"
)


@dataclass(frozen=True)
class AppFacts:
    """What the matcher may use of an IdP app (tables.IdpApp has these)."""

    provider: str
    client_id: str
    display_name: str
    publisher: str | None = None
    verified_publisher: str | None = None
    domains: tuple[str, ...] = ()
    first_party: bool = False


@dataclass(frozen=True)
class VendorMatch:
    vendor_id: str | None = None
    confidence: str | None = None  # high, medium, low
    reasons: tuple[str, ...] = ()
    not_ai: str | None = None  # a NotAi id: a known app that is not AI
    lookalike_of: str | None = None  # the vendor whose name an unverified app borrows
    signals: dict[str, bool] = field(default_factory=dict)


def normalise(name: str) -> str:
    return " ".join(NAME_NOISE.sub(" ", name.casefold()).split())


def match_app(catalog: Catalog, app: AppFacts) -> VendorMatch:
    known = _known_client(catalog, app)
    if known is not None:
        return known
    not_ai = _not_ai(catalog.not_ai, app)
    if not_ai is not None:
        return VendorMatch(not_ai=not_ai.id, reasons=(f"a known non-AI app: {not_ai.name}",))
    best: VendorMatch | None = None
    for vendor in catalog.vendors:
        found = _score(vendor, app)
        if found is not None and (best is None or _rank(found) > _rank(best)):
            best = found
    return best or VendorMatch(
        reasons=("no catalog vendor matches its id, publisher, domains or name",)
    )


def _rank(found: VendorMatch) -> int:
    return {"high": 3, "medium": 2, "low": 1}.get(found.confidence or "", 0) + (
        0 if found.vendor_id else -5
    )


def _known_client(catalog: Catalog, app: AppFacts) -> VendorMatch | None:
    for vendor in catalog.vendors:
        for client in vendor.client_ids:
            if client.id == app.client_id:
                reason = f"client id is {vendor.name}'s {client.name or 'app'} (catalog)"
                return VendorMatch(vendor.id, client.confidence, (reason,))
    return None


def _not_ai(entries: tuple[NotAi, ...], app: AppFacts) -> NotAi | None:
    name = normalise(app.display_name)
    for entry in entries:
        if app.client_id in entry.client_ids:
            return entry
        named = name in {normalise(n) for n in entry.app_names}
        vouched = _publisher_is(app, entry.publishers) or _domain_in(app.domains, entry.domains)
        if named and (vouched or not (app.publisher or app.domains)):
            return entry
    return None


def _score(vendor: CatalogVendor, app: AppFacts) -> VendorMatch | None:
    names = {normalise(n) for n in (vendor.name, *vendor.aliases, *vendor.app_names)}
    name = normalise(app.display_name)
    named = name in names
    resembles = not named and any(_contains_word(name, n) for n in names if len(n) >= 4)
    verified = bool(app.verified_publisher) and _names_vendor(app.verified_publisher, vendor)
    publisher = bool(app.publisher) and _names_vendor(app.publisher, vendor)
    domain = _domain_in(app.domains, vendor.web_domains)
    signals = {
        "name": named,
        "resembles": resembles,
        "verified": verified,
        "publisher": publisher,
        "domain": domain,
    }
    if not any(signals.values()):
        return None
    if (named or resembles) and _borrowed(app, verified, publisher, domain):
        reason = (
            f"its name borrows {vendor.name}'s but its publisher is unverified "
            f"and not {vendor.name}"
        )
        return VendorMatch(
            lookalike_of=vendor.id, confidence="high", reasons=(reason,), signals=signals
        )
    if not (named or verified or publisher or domain):
        return _resemblance(vendor, app, signals)
    return VendorMatch(
        vendor.id, _confidence(signals), _reasons(vendor, app, signals), signals=signals
    )


def _resemblance(vendor: CatalogVendor, app: AppFacts, signals: dict[str, bool]) -> VendorMatch:
    """A name that only contains a vendor's: the org's own SSO app (Okta), else unprovable."""
    if app.provider == "okta":
        reason = f"SSO app name {app.display_name!r} contains {vendor.name}'s"
        return VendorMatch(vendor.id, "low", (reason,), signals=signals)
    reason = f"its name contains {vendor.name}'s, and the IdP shows no publisher to confirm it"
    return VendorMatch(lookalike_of=vendor.id, confidence="low", reasons=(reason,), signals=signals)


def _borrowed(app: AppFacts, verified: bool, publisher: bool, domain: bool) -> bool:
    """An Entra app that says who publishes it, unverified, and neither name nor domain fit."""
    unverified = app.publisher is not None and not app.verified_publisher and not app.first_party
    return unverified and not verified and not publisher and not domain


def _confidence(signals: dict[str, bool]) -> str:
    if signals["verified"] or (signals["name"] and (signals["publisher"] or signals["domain"])):
        return "high"
    if signals["publisher"] or signals["domain"]:
        return "medium"
    return "low"


def _reasons(vendor: CatalogVendor, app: AppFacts, signals: dict[str, bool]) -> tuple[str, ...]:
    said = []
    if signals["verified"]:
        said.append(f"verified publisher {app.verified_publisher}")
    elif signals["publisher"]:
        said.append(f"publisher {app.publisher} (not verified)")
    if signals["domain"]:
        owned = [d for d in app.domains if _domain_in((d,), vendor.web_domains)]
        said.append(f"domain {', '.join(owned)} is {vendor.name}'s")
    if signals["name"]:
        said.append(f"display name {app.display_name!r}" + ("" if len(said) else " only"))
    return tuple(said)


def _names_vendor(publisher: str | None, vendor: CatalogVendor) -> bool:
    wanted = normalise(publisher or "")
    names = {normalise(n) for n in (vendor.name, *vendor.aliases, *vendor.publishers)}
    return bool(wanted) and (
        wanted in names or any(_contains_word(n, wanted) for n in names if len(wanted) >= 4)
    )


def _publisher_is(app: AppFacts, publishers: tuple[str, ...]) -> bool:
    wanted = {normalise(p) for p in publishers}
    return normalise(app.verified_publisher or app.publisher or "") in wanted


def _domain_in(domains: tuple[str, ...], owned: tuple[str, ...]) -> bool:
    return any(d == o or d.endswith("." + o) for d in domains for o in owned)


def _contains_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None
