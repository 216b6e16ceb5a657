"""The organisation's identity: this database's collector id and fingerprint key.

Made once per database at first start, race-safe across replicas; never logged.
"""

from __future__ import annotations

import logging
import secrets
import uuid

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shadowmap.server.tables import ORG_IDENTITY_ROW, OrgIdentity, utcnow

logger = logging.getLogger(__name__)

# The HMAC-SHA256 key for secret value hashes (DESIGN.md, "Secrets never leave the device").
FINGERPRINT_KEY_BYTES = 32


def ensure_org_identity(engine: Engine) -> None:
    """Insert the identity row if absent; a replica that loses the race reads the winner's."""
    with Session(engine) as session:
        if session.get(OrgIdentity, ORG_IDENTITY_ROW) is not None:
            return
        session.add(
            OrgIdentity(
                id=ORG_IDENTITY_ROW,
                collector_id=uuid.uuid4().hex,
                fingerprint_key=secrets.token_hex(FINGERPRINT_KEY_BYTES),
                created_at=utcnow(),
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            logger.info("another replica made the org identity first; using it")
            return
    logger.info("made this database's org identity and fingerprint key")


def org_identity(session: Session) -> OrgIdentity:
    identity = session.get(OrgIdentity, ORG_IDENTITY_ROW)
    if identity is None:
        raise RuntimeError("the org identity is missing; the collector creates it at start-up")
    return identity


def fingerprint_scope(identity: OrgIdentity) -> str:
    return f"org:{identity.collector_id}"
