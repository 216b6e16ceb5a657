"""The rows behind every list and the documents behind every detail page, with filters and
search: the pages, their CSV/JSON exports and the API read the same functions.

Read-only; a missing item is NotFound (404).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shadowmap.server import conclusions, inventory, views
from shadowmap.server.errors import NotFound
from shadowmap.server.inventory import Inventory
from shadowmap.server.tables import FindingRecord, RepoFinding

logger = logging.getLogger(__name__)

# The lists that /export and ?format= offer (docs/collector.md, "Export").
LISTS = (
    "vendors",
    "people",
    "devices",
    "findings",
    "grants",
    "conclusions",
    "keys",
    "repositories",
)


def matches(row: dict[str, Any], q: str | None, /, **equals: str | None) -> bool:
    """True when every given filter holds and q occurs in some value (case-folded)."""
    for name, wanted in equals.items():
        if wanted and str(row.get(name) or "").casefold() != wanted.casefold():
            return False
    if not q:
        return True
    needle = q.casefold()
    return any(needle in str(value).casefold() for value in row.values() if value is not None)


def filtered(
    rows: Iterable[dict[str, Any]], q: str | None = None, /, **equals: str | None
) -> list[dict[str, Any]]:
    # Positional-only: a column filter named "rows" or "q" (any query parameter of
    # /export) is a filter, never a second value for them.
    return [row for row in rows if matches(row, q, **equals)]


def rows_of(session: Session, name: str, built: Inventory | None = None) -> list[dict[str, Any]]:
    """Every row of one list, unfiltered."""
    built = built or inventory.build(session)
    makers = {
        "vendors": lambda: [views.vendor_row(v) for v in built.vendors.values()],
        "people": lambda: views.person_rows(built),
        "devices": lambda: device_rows(built),
        "findings": lambda: finding_rows(session, built),
        "grants": lambda: [views.grant_row(g) for g in built.grants],
        "conclusions": lambda: [views.conclusion_row(c) for c in conclusions.derive(built)],
        "keys": lambda: key_rows(built),
        "repositories": lambda: repository_rows(built),
    }
    if name not in makers:
        raise NotFound(f"there is no list {name!r}; the lists are {', '.join(LISTS)}")
    return makers[name]()


def device_rows(built: Inventory) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    vendors: dict[str, set[str]] = {}
    for sighting in built.sightings:
        if sighting.place_kind == "device":
            counts[sighting.place_id] = counts.get(sighting.place_id, 0) + 1
            if sighting.vendor:
                vendors.setdefault(sighting.place_id, set()).add(sighting.vendor)
    rows = []
    for device in sorted(built.devices.values(), key=lambda d: d.hostname.casefold()):
        link = built.links.get(device.id)
        person = built.people.get(link.person_id) if link else None
        rows.append(
            {
                "id": device.id,
                "hostname": device.hostname,
                "os": device.os,
                "os_user": device.os_user,
                "email": device.email,
                "person_id": person.id if person else None,
                "person": person.email if person else None,
                "join_rule": link.rule if link else None,
                "open_findings": counts.get(device.id, 0),
                "vendors": sorted(vendors.get(device.id, set())),
                "enrolled_at": views.when(device.enrolled_at),
                "last_seen": views.when(device.last_seen),
            }
        )
    return rows


def finding_rows(session: Session, built: Inventory) -> list[dict[str, Any]]:
    """Every finding, open and resolved, of devices and repositories."""
    rows = []
    for row in session.scalars(select(FindingRecord)):
        device = built.devices[row.device_id]
        rows.append(
            _finding_row(
                "device",
                device.id,
                device.hostname,
                row.finding_id,
                row.status,
                row.data,
                row.first_seen,
                row.last_seen,
            )
        )
    for repo_row in session.scalars(select(RepoFinding)):
        repo = built.repositories[repo_row.repository_id]
        rows.append(
            _finding_row(
                "repository",
                repo.id,
                repo.name,
                repo_row.finding_id,
                repo_row.status,
                repo_row.data,
                repo_row.first_seen,
                repo_row.last_seen,
            )
        )
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    return sorted(
        rows, key=lambda r: (r["status"] != "open", order.get(r["severity"], 5), r["title"])
    )


def _finding_row(
    place_kind: str,
    place_id: str,
    place: str,
    finding_id: str,
    status: str,
    data: dict[str, Any],
    first_seen: Any,
    last_seen: Any,
) -> dict[str, Any]:
    location = data.get("location") or {}
    evidence = data.get("evidence") or {}
    return {
        "id": finding_id,
        "place_kind": place_kind,
        "place_id": place_id,
        "place": place,
        "kind": data.get("kind"),
        "title": data.get("title"),
        "severity": data.get("severity"),
        "vendor": data.get("vendor"),
        "user": data.get("user"),
        "location": location.get("path"),
        "preview": (data.get("secret") or {}).get("preview"),
        "value_hash": data.get("value_hash"),
        "key_age_days": evidence.get("key_age_days"),
        "status": status,
        "first_seen": views.when(first_seen),
        "last_seen": views.when(last_seen),
    }


def key_rows(built: Inventory) -> list[dict[str, Any]]:
    rows = []
    for value_hash, places in inventory.keys_by_hash(built).items():
        ages = [
            int(s.evidence["key_age_days"])
            for s in places
            if s.evidence.get("key_age_days") is not None
        ]
        rows.append(
            {
                "value_hash": value_hash,
                "vendor": places[0].vendor,
                "preview": places[0].preview,
                "kind": (places[0].evidence or {}).get("kind") or places[0].title,
                "places": sorted({f"{s.place_kind} {s.place_name}" for s in places}),
                "place_count": len({(s.place_kind, s.place_id) for s in places}),
                "oldest_age_days": max(ages) if ages else None,
            }
        )
    return sorted(rows, key=lambda r: (-r["place_count"], str(r["vendor"])))


def repository_rows(built: Inventory) -> list[dict[str, Any]]:
    rows = []
    for repo in sorted(built.repositories.values(), key=lambda r: r.name):
        keys = [s for s in built.sightings if s.place_id == repo.id and s.kind == "secret"]
        rows.append(
            {
                "id": repo.id,
                "name": repo.name,
                "remote": repo.remote,
                "branch": repo.branch,
                "head": repo.head,
                "keys": len(keys),
                "vendors": sorted({str(s.vendor) for s in keys}),
                "last_seen": views.when(repo.last_seen),
            }
        )
    return rows


def vendor_detail(built: Inventory, key: str) -> dict[str, Any]:
    vendor = built.vendors.get(key)
    if vendor is None:
        raise NotFound("no vendor with that key has grants or findings; see /vendors")
    document = views.vendor_doc(vendor)
    document["conclusions"] = [
        views.conclusion_row(c)
        for c in conclusions.derive(built)
        if c.vendor in (key, *_sig_ids(built, key))
    ]
    catalog_vendor = built.catalog.vendor(key)
    document["catalog"] = (
        {
            "aliases": list(catalog_vendor.aliases),
            "domains": list(catalog_vendor.web_domains),
            "sources": list(catalog_vendor.sources),
        }
        if catalog_vendor
        else None
    )
    return document


def _sig_ids(built: Inventory, key: str) -> tuple[str, ...]:
    found = built.catalog.vendor(key)
    return found.signature_vendors if found else (key.removeprefix(inventory.UNCATALOGUED),)


def person_detail(session: Session, built: Inventory, person_id: int) -> dict[str, Any]:
    person = built.people.get(person_id)
    if person is None:
        raise NotFound("no such person; see /people")
    row = next(r for r in views.person_rows(built) if r["id"] == person_id)
    devices = [r for r in device_rows(built) if r["person_id"] == person_id]
    links = {d: built.links[d] for d in (r["id"] for r in devices) if d in built.links}
    return {
        **row,
        "identity_list": [
            {
                "provider": i.provider,
                "external_id": i.external_id,
                "email": i.email,
                "status": i.status,
            }
            for i in built.identities
            if i.person_id == person_id
        ],
        "grant_list": [views.grant_row(g) for g in built.grants if g.person_id == person_id],
        "device_list": devices,
        "joins": {d: {"rule": link.rule, "evidence": link.evidence} for d, link in links.items()},
        "conclusions": [
            views.conclusion_row(c) for c in conclusions.derive(built) if c.person_id == person_id
        ],
    }


def device_detail(session: Session, built: Inventory, device_id: str) -> dict[str, Any]:
    row = next((r for r in device_rows(built) if r["id"] == device_id), None)
    if row is None:
        raise NotFound("no such device; see /devices")
    findings = [r for r in finding_rows(session, built) if r["place_id"] == device_id]
    link = built.links.get(device_id)
    return {
        **row,
        "machine_id": built.devices[device_id].machine_id,
        "join": {"rule": link.rule, "evidence": link.evidence} if link else None,
        "finding_list": findings,
        "conclusions": [
            views.conclusion_row(c) for c in conclusions.derive(built) if c.device_id == device_id
        ],
    }


def repository_detail(session: Session, built: Inventory, repository_id: str) -> dict[str, Any]:
    row = next((r for r in repository_rows(built) if r["id"] == repository_id), None)
    if row is None:
        raise NotFound("no such repository; see /devices")
    return {
        **row,
        "finding_list": [r for r in finding_rows(session, built) if r["place_id"] == repository_id],
    }


def search(session: Session, built: Inventory, q: str) -> dict[str, list[dict[str, Any]]]:
    """Every list's rows that mention q; empty lists are left out."""
    if not q.strip():
        return {}
    found = {name: filtered(rows_of(session, name, built), q) for name in LISTS}
    return {name: rows for name, rows in found.items() if rows}
