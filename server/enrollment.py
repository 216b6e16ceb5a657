"""Enrolment: an enrol secret is exchanged for a per-device token (osquery's TLS model).

Only SHA-256 hashes of device tokens are stored; a token is shown once, in the response.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shadowmap.server import people
from shadowmap.server.errors import EnrollSecretInvalid
from shadowmap.server.org import fingerprint_scope, org_identity
from shadowmap.server.schemas import EnrollRequest, EnrollResponse
from shadowmap.server.tables import Device, utcnow

logger = logging.getLogger(__name__)

# 32 random bytes, as the brief for device tokens asks (secrets.token_urlsafe).
DEVICE_TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def secrets_equal(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def device_for_token(session: Session, token: str) -> Device | None:
    # A lookup by the token's hash leaks nothing through timing: the hash is not guessable.
    return session.scalar(select(Device).where(Device.token_hash == hash_token(token)))


def enroll(
    session: Session,
    request: EnrollRequest,
    enroll_secret: str,
    rules: tuple[people.JoinRule, ...] = people.DEFAULT_RULES,
) -> EnrollResponse:
    """The device for this machine id, made or updated, with a new token; old tokens die."""
    if not secrets_equal(request.enroll_secret, enroll_secret):
        logger.info("refused an enrolment: wrong enrol secret")
        raise EnrollSecretInvalid()

    token = secrets.token_urlsafe(DEVICE_TOKEN_BYTES)
    device = _save_device_retrying(session, request, hash_token(token))
    people.ensure_device_person(session, device, rules)
    identity = org_identity(session)
    session.commit()

    logger.info("enrolled device %s", device.id)
    return EnrollResponse(
        device_id=device.id,
        device_token=token,
        fingerprint_key=identity.fingerprint_key,
        fingerprint_scope=fingerprint_scope(identity),
    )


def _save_device_retrying(session: Session, request: EnrollRequest, token_hash: str) -> Device:
    # Two first enrolments of one machine race on its unique machine id; the loser updates.
    try:
        return _save_device(session, request, token_hash)
    except IntegrityError:
        session.rollback()
        logger.info("a parallel enrolment of this machine made its device first; updating it")
        return _save_device(session, request, token_hash)


def _save_device(session: Session, request: EnrollRequest, token_hash: str) -> Device:
    now = utcnow()
    device = session.scalar(select(Device).where(Device.machine_id == request.machine_id))
    if device is None:
        device = Device(id=str(uuid.uuid4()), machine_id=request.machine_id, enrolled_at=now)
        session.add(device)
    device.hostname = request.hostname
    device.os = request.os.value
    device.os_user = request.os_user
    device.email = request.email
    device.agent_version = request.agent_version
    device.token_hash = token_hash
    device.last_seen = now
    session.flush()
    return device
