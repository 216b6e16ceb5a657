"""People: IdP identities grouped by email, joined to devices by configurable rules.

Every join keeps the rule that made it and the values it compared (its evidence), so an
analyst can see why a laptop is someone's. Writes only people and person_devices.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from enum import Enum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shadowmap.agent.errors import ConfigError
from shadowmap.server.tables import Device, IdpIdentity, Person, PersonDevice, utcnow

logger = logging.getLogger(__name__)

# docs/collector.md, "Joining people to devices": the rules and their order.
JOIN_RULES_ENV = "SHADOWMAP_JOIN_RULES"


class JoinRule(str, Enum):
    EMAIL = "email"  # the device's enrolment email (from MDM) is the person's email or UPN
    OS_USER = "os_user"  # the device's OS user is the local part of exactly one person's email


DEFAULT_RULES = (JoinRule.EMAIL, JoinRule.OS_USER)


def rules_from(environ: Mapping[str, str]) -> tuple[JoinRule, ...]:
    """The join rules from SHADOWMAP_JOIN_RULES (comma-separated), else the default."""
    raw = environ.get(JOIN_RULES_ENV, "").strip()
    if not raw:
        return DEFAULT_RULES
    try:
        return tuple(JoinRule(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError:
        known = ", ".join(rule.value for rule in JoinRule)
        raise ConfigError(
            f"{JOIN_RULES_ENV}={raw!r} names an unknown rule", hint=f"use some of: {known}"
        ) from None


def person_for_email(session: Session, email: str, name: str | None) -> Person:
    person = session.scalar(select(Person).where(Person.email == email))
    if person is None:
        person = Person(email=email, display_name=name, first_seen=utcnow())
        session.add(person)
        session.flush()
    elif name and not person.display_name:
        person.display_name = name
    return person


def attach_identities(session: Session, identities: Iterable[IdpIdentity]) -> None:
    for identity in identities:
        if identity.email:
            identity.person_id = person_for_email(session, identity.email, identity.display_name).id


def link_devices(
    session: Session, rules: tuple[JoinRule, ...], device_ids: set[str] | None = None
) -> int:
    """Rebuild the joins of the given devices (all when None); the number of joins made."""
    people = list(session.scalars(select(Person)))
    query = select(Device)
    if device_ids is not None:
        query = query.where(Device.id.in_(device_ids))
    made = 0
    for device in session.scalars(query):
        session.execute(delete(PersonDevice).where(PersonDevice.device_id == device.id))
        found = _match(device, people, rules)
        if found is not None:
            person, rule, evidence = found
            session.add(
                PersonDevice(
                    person_id=person.id,
                    device_id=device.id,
                    rule=rule.value,
                    evidence=evidence,
                    linked_at=utcnow(),
                )
            )
            made += 1
    session.flush()
    return made


def _match(
    device: Device, people: list[Person], rules: tuple[JoinRule, ...]
) -> tuple[Person, JoinRule, dict[str, str]] | None:
    """The first rule, in order, that names exactly one person for this device."""
    for rule in rules:
        if rule is JoinRule.EMAIL and device.email:
            wanted = device.email.strip().lower()
            hits = [p for p in people if p.email == wanted]
            evidence = {"device_email": device.email, "person_email": wanted}
        elif rule is JoinRule.OS_USER and device.os_user:
            wanted = device.os_user.strip().lower()
            hits = [p for p in people if p.email.split("@", 1)[0] == wanted]
            evidence = {"device_os_user": device.os_user, "person_email": ""}
        else:
            continue
        if len(hits) == 1:
            evidence["person_email"] = hits[0].email
            return hits[0], rule, evidence
        if len(hits) > 1:
            logger.info(
                "device %s: rule %s names %d people; not joined by it",
                device.id,
                rule.value,
                len(hits),
            )
    return None


def ensure_device_person(session: Session, device: Device, rules: tuple[JoinRule, ...]) -> None:
    """An enrolled email is a person too, so a laptop is someone's before any IdP import."""
    if device.email and "@" in device.email:
        person_for_email(session, device.email.strip().lower(), None)
    link_devices(session, rules, {device.id})
