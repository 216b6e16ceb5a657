"""The inventory as plain rows and documents: what the API, the exports, the pages and
``collector report`` all show, so they always agree.

Pure functions of an Inventory; every value is from the database or the catalog, never a
secret (keys appear by preview and keyed hash only).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from shadowmap.server.conclusions import Conclusion
from shadowmap.server.inventory import GrantView, Inventory, Sighting, VendorNode
from shadowmap.server.trust import TrustScore

logger = logging.getLogger(__name__)

# How a grant acts, by consent type (idp-anchors s. 2.1, 2.3).
ACCESS = {
    "user": "delegated (acts as the user)",
    "admin": "delegated, tenant-wide (admin consent)",
    "application": "app-only (acts as itself, no user)",
}
# "What is new since last week" on the overview.
NEW_WINDOW = timedelta(days=7)


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def trust_doc(score: TrustScore | None) -> dict[str, Any] | None:
    if score is None:
        return None
    return {
        "score": score.shown,
        "computed": score.score,
        "coverage": score.coverage,
        "range": [score.low, score.high],
        "assessed": score.assessed,
        "factors": [asdict(f) for f in score.factors],
        "gates": list(score.gates),
        "needs_review": score.needs_review,
        "override": score.override,
        "override_reason": score.override_reason,
        "policy": {"custom": score.custom_policy, "penalise_unknown": score.penalise_unknown},
    }


def grant_row(grant: GrantView) -> dict[str, Any]:
    match = grant.match
    return {
        "id": grant.id,
        "provider": grant.provider,
        "app": grant.app_name,
        "client_id": grant.client_id,
        "vendor": match.vendor_id,
        "match_confidence": match.confidence,
        "match_reasons": list(match.reasons),
        "not_ai": match.not_ai,
        "lookalike_of": match.lookalike_of,
        "person_id": grant.person_id,
        "user": grant.person_email or grant.user_name,
        "user_status": grant.identity_status,
        "consent": grant.consent,
        "access": ACCESS.get(grant.consent, grant.consent),
        "lifetime": "persistent (offline access)" if grant.reach.persistent else "short-lived",
        "scopes": grant.scopes,
        "scope_level": grant.reach.level.value,
        "areas": list(grant.reach.areas),
        "status": grant.status,
        "granted_at": when(grant.granted_at),
        "last_used_at": when(grant.last_used_at),
        "revoked_at": when(grant.revoked_at),
        "first_seen": when(grant.first_seen),
    }


def sighting_row(sighting: Sighting) -> dict[str, Any]:
    ev = sighting.evidence
    return {
        "place_kind": sighting.place_kind,
        "place_id": sighting.place_id,
        "place": sighting.place_name,
        "finding_id": sighting.finding_id,
        "kind": sighting.kind,
        "title": sighting.title,
        "severity": sighting.severity,
        "vendor": sighting.vendor,
        "location": sighting.location,
        "preview": sighting.preview,
        "value_hash": sighting.value_hash,
        "service": ev.get("service"),
        "client": ev.get("client_name"),
        "key_age_days": ev.get("key_age_days"),
        "key_first_committed_at": ev.get("key_first_committed_at"),
        "person_id": sighting.person_id,
        "user": sighting.user,
        "status": "open",
        "first_seen": when(sighting.first_seen),
    }


def vendor_row(vendor: VendorNode) -> dict[str, Any]:
    score = vendor.trust
    return {
        "key": vendor.key,
        "name": vendor.name,
        "kind": vendor.kind,
        "in_catalog": vendor.in_catalog,
        "sanctioned": vendor.sanctioned.sanctioned,
        "sanction_reason": vendor.sanctioned.reason,
        "trust": score.shown if score else None,
        "coverage": score.coverage if score else None,
        "trust_range": [score.low, score.high] if score else None,
        "assessed": score.assessed if score else False,
        "apps": len(vendor.apps),
        "live_grants": sum(g.status == "active" for g in vendor.grants),
        "people": len(vendor.people),
        "devices": len({s.place_id for s in vendor.running}),
        "mcp_servers": len(vendor.mcp_servers),
        "keys": len({s.value_hash for s in vendor.keys}),
    }


def vendor_doc(vendor: VendorNode) -> dict[str, Any]:
    return {
        **vendor_row(vendor),
        "trust_detail": trust_doc(vendor.trust),
        "app_list": [
            {
                "provider": a.provider,
                "client_id": a.client_id,
                "name": a.name,
                "publisher": a.publisher,
                "verified_publisher": a.verified_publisher,
                "sso_status": a.sso_status,
                "confidence": a.match.confidence,
                "reasons": list(a.match.reasons),
            }
            for a in vendor.apps
        ],
        "grant_list": [grant_row(g) for g in vendor.grants],
        "device_list": [sighting_row(s) for s in vendor.running],
        "mcp_server_list": [sighting_row(s) for s in vendor.mcp_servers],
        "key_list": [sighting_row(s) for s in vendor.keys],
    }


def conclusion_row(conclusion: Conclusion) -> dict[str, Any]:
    return {
        "kind": conclusion.kind,
        "severity": conclusion.severity,
        "title": conclusion.title,
        "detail": conclusion.detail,
        "vendor": conclusion.vendor,
        "person_id": conclusion.person_id,
        "device_id": conclusion.device_id,
        "grant_ids": list(conclusion.grant_ids),
        "evidence": conclusion.evidence,
    }


def person_rows(inventory: Inventory) -> list[dict[str, Any]]:
    rows = []
    for person in sorted(inventory.people.values(), key=lambda p: p.email):
        identities = [i for i in inventory.identities if i.person_id == person.id]
        grants = [g for g in inventory.grants if g.person_id == person.id]
        devices = [d for d, p in inventory.device_people.items() if p == person.id]
        rows.append(
            {
                "id": person.id,
                "email": person.email,
                "name": person.display_name,
                "identities": [f"{i.provider}:{i.status}" for i in identities],
                "status": _worst_status(i.status for i in identities),
                "live_grants": sum(g.status == "active" for g in grants),
                "ai_grants": sum(g.status == "active" and bool(g.match.vendor_id) for g in grants),
                "devices": len(devices),
                "first_seen": when(person.first_seen),
            }
        )
    return rows


def _worst_status(statuses: Any) -> str:
    found = set(statuses)
    for status in ("deleted", "suspended", "active"):
        if status in found:
            return status
    return "unknown"


def summary(
    inventory: Inventory, conclusions: list[Conclusion], now: datetime | None = None
) -> dict[str, Any]:
    since = (now or datetime.now(UTC)) - NEW_WINDOW
    live = [g for g in inventory.grants if g.status == "active"]
    ai = [v for v in inventory.vendors.values() if v.in_catalog]
    return {
        "vendors": len(ai),
        "shadow_vendors": sum(
            not v.sanctioned.sanctioned and bool(v.grants or v.running) for v in ai
        ),
        "people": len(inventory.people),
        "devices": len(inventory.devices),
        "repositories": len(inventory.repositories),
        "live_grants": len(live),
        "ai_grants": sum(bool(g.match.vendor_id) for g in live),
        "not_ai_grants": sum(bool(g.match.not_ai) for g in live),
        "open_findings": len(inventory.sightings),
        "hardcoded_keys": len({s.value_hash for s in inventory.sightings if s.value_hash}),
        "conclusions": len(conclusions),
        "urgent": sum(c.severity in ("critical", "high") for c in conclusions),
        "new_this_week": {
            "grants": sum(g.first_seen >= since for g in inventory.grants),
            "findings": sum(s.first_seen >= since for s in inventory.sightings),
            "devices": sum(d.enrolled_at >= since for d in inventory.devices.values()),
            "people": sum(p.first_seen >= since for p in inventory.people.values()),
        },
    }
