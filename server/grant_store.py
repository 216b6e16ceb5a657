"""Stores what a connector read: identities, apps and grants, in one transaction.

A batch is the full state for the users it says it covers, so their grants it lacks are
marked revoked; nothing else is deleted. Then people are joined to devices again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shadowmap.server import people
from shadowmap.server.idp.interface import (
    APP_ONLY,
    EVERYONE,
    App,
    ConsentType,
    Grant,
    GrantBatch,
    GrantStatus,
    Identity,
    IdentityStatus,
)
from shadowmap.server.tables import IdpApp, IdpGrant, IdpIdentity, ImportRun, utcnow

logger = logging.getLogger(__name__)

# Imports of one database run one at a time (any fixed 64-bit number; "shgrant").
IMPORT_LOCK_KEY = 0x7368677261
# Column widths in tables.py: longer ids are cut to fit, never refused (IdPs own them).
MAX_ID_LENGTH = 256


@dataclass(frozen=True)
class ImportSummary:
    """What one import stored, for the CLI to print and the overview to show."""

    provider: str
    identities: int
    apps: int
    grants: int
    revoked: int
    joined_devices: int
    skipped: list[dict[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def store_batch(
    session: Session, batch: GrantBatch, mode: str, rules: tuple[people.JoinRule, ...]
) -> ImportSummary:
    """Upsert the batch, revoke what its covered users no longer hold, join people."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
    now = utcnow()
    identities = {i.external_id: _identity(session, i, now) for i in batch.identities}
    people.attach_identities(session, identities.values())
    apps = {a.client_id: _app(session, a, now) for a in batch.apps}
    seen: set[int] = set()
    for grant in batch.grants:
        identity = identities.get(grant.user_id or "") if grant.user_id else None
        if grant.user_id and identity is None:
            identity = _identity(session, Identity(batch.provider, grant.user_id), now)
        app = apps.get(grant.client_id) or _app(
            session, App(batch.provider, grant.client_id, grant.client_id), now
        )
        seen.add(_grant(session, grant, identity, app, now).id)
    revoked = _revoke_missing(session, batch, seen, now)
    joined = people.link_devices(session, rules)
    summary = ImportSummary(
        provider=batch.provider.value,
        identities=len(identities),
        apps=len(apps),
        grants=len(seen),
        revoked=revoked,
        joined_devices=joined,
        skipped=[{"where": s.where, "reason": s.reason} for s in batch.skipped],
        sources=list(batch.sources),
    )
    session.add(_run(summary, mode, now))
    session.commit()
    logger.info("stored %s grants: %d kept, %d revoked", batch.provider.value, len(seen), revoked)
    return summary


def _identity(session: Session, found: Identity, now: datetime) -> IdpIdentity:
    row = session.scalar(
        select(IdpIdentity).where(
            IdpIdentity.provider == found.provider.value,
            IdpIdentity.external_id == found.external_id[:MAX_ID_LENGTH],
        )
    )
    if row is None:
        row = IdpIdentity(
            provider=found.provider.value,
            external_id=found.external_id[:MAX_ID_LENGTH],
            status=IdentityStatus.UNKNOWN.value,
            first_seen=now,
        )
        session.add(row)
    row.email = found.email or row.email
    row.display_name = found.display_name or row.display_name
    if found.status is not IdentityStatus.UNKNOWN:
        row.status = found.status.value
    row.last_seen = now
    session.flush()
    return row


def _app(session: Session, found: App, now: datetime) -> IdpApp:
    client = found.client_id[:MAX_ID_LENGTH]
    row = session.scalar(
        select(IdpApp).where(IdpApp.provider == found.provider.value, IdpApp.client_id == client)
    )
    if row is None:
        row = IdpApp(provider=found.provider.value, client_id=client, first_seen=now)
        session.add(row)
    elif found.display_name == found.client_id:
        row.last_seen = now  # a grant named a client the batch did not describe; keep what we know
        return row
    row.display_name = found.display_name
    row.publisher = found.publisher
    row.verified_publisher = found.verified_publisher
    row.domains = list(found.domains)
    row.native = found.native
    row.anonymous = found.anonymous
    row.first_party = found.first_party
    row.sso_status = found.sso_status
    row.sso_note = found.sso_note
    row.last_seen = now
    session.flush()
    return row


def grant_key_hash(grant: Grant) -> str:
    return hashlib.sha256(grant.key.encode("utf-8")).hexdigest()


def _grant(
    session: Session, found: Grant, identity: IdpIdentity | None, app: IdpApp, now: datetime
) -> IdpGrant:
    key = grant_key_hash(found)
    row = session.scalar(
        select(IdpGrant).where(IdpGrant.provider == found.provider.value, IdpGrant.key_hash == key)
    )
    if row is None:
        row = IdpGrant(provider=found.provider.value, key_hash=key, first_seen=now)
        session.add(row)
    row.identity_id = identity.id if identity else None
    row.app_id = app.id
    row.resource = found.resource[:MAX_ID_LENGTH]
    row.scopes = list(found.scopes)
    row.consent = found.consent.value
    row.status = found.status.value
    row.granted_at = found.granted_at or row.granted_at
    row.last_used_at = found.last_used_at or row.last_used_at
    row.revoked_at = found.revoked_at if found.status is GrantStatus.REVOKED else None
    row.last_seen = now
    session.flush()
    return row


def _revoke_missing(session: Session, batch: GrantBatch, seen: set[int], now: datetime) -> int:
    """Grants of covered users that the batch no longer lists: the user or an admin revoked them."""
    if not batch.complete_for:
        return 0
    query = (
        select(IdpGrant, IdpIdentity.external_id)
        .outerjoin(IdpIdentity, IdpIdentity.id == IdpGrant.identity_id)
        .where(
            IdpGrant.provider == batch.provider.value, IdpGrant.status == GrantStatus.ACTIVE.value
        )
    )
    revoked = 0
    for grant, user in session.execute(query):
        app_only = grant.consent == ConsentType.APPLICATION.value
        holder = user or (APP_ONLY if app_only else EVERYONE)
        if batch.covers(holder) and grant.id not in seen:
            grant.status = GrantStatus.REVOKED.value
            grant.revoked_at = grant.revoked_at or now
            revoked += 1
    return revoked


def _run(summary: ImportSummary, mode: str, now: datetime) -> ImportRun:
    counts = {
        "identities": summary.identities,
        "apps": summary.apps,
        "grants": summary.grants,
        "revoked": summary.revoked,
        "joined_devices": summary.joined_devices,
    }
    return ImportRun(
        provider=summary.provider,
        mode=mode,
        sources=summary.sources,
        counts=counts,
        skipped=summary.skipped,
        ran_at=now,
    )
