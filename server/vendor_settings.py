"""An admin's decision about a vendor: sanctioned or not, the scopes it may hold, and a
trust override with its written reason (vendor-trust.md 2.4: overrides need a note).

Refuses a bad decision whole (RequestInvalid); never touches the catalog file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shadowmap.server.db import last_write_wins
from shadowmap.server.errors import NotFound, RequestInvalid
from shadowmap.server.inventory import UNCATALOGUED
from shadowmap.server.tables import VendorSetting, utcnow
from shadowmap.signatures.catalog import load_catalog

logger = logging.getLogger(__name__)

# Widths the pages and the columns allow.
MAX_NOTE = 2000
MAX_SCOPES = 100
MAX_SCOPE_LENGTH = 300


@dataclass(frozen=True)
class DecisionInput:
    sanctioned: bool | None
    allowed_scopes: tuple[str, ...] = ()
    note: str | None = None
    trust_override: int | None = None
    override_reason: str | None = None


def decide(session: Session, vendor_key: str, made_by: str, wanted: DecisionInput) -> VendorSetting:
    _check(vendor_key, wanted)
    row = last_write_wins(session, lambda: _write(session, vendor_key, made_by, wanted))
    logger.info("vendor %s: decision changed by %s", vendor_key, made_by)
    return row


def _write(session: Session, vendor_key: str, made_by: str, wanted: DecisionInput) -> VendorSetting:
    row = session.get(VendorSetting, vendor_key)
    if row is None:
        row = VendorSetting(vendor_id=vendor_key)
        session.add(row)
    row.sanctioned = wanted.sanctioned
    row.allowed_scopes = list(wanted.allowed_scopes)
    row.note = wanted.note or None
    row.trust_override = wanted.trust_override
    row.override_reason = wanted.override_reason or None
    row.updated_by = made_by
    row.updated_at = utcnow()
    session.commit()
    return row


def _check(vendor_key: str, wanted: DecisionInput) -> None:
    known = load_catalog().vendor(vendor_key) is not None
    if not known and not vendor_key.startswith(UNCATALOGUED):
        raise NotFound("no such vendor in the catalog; see /vendors")
    if wanted.trust_override is not None:
        if not 0 <= wanted.trust_override <= 100:
            raise RequestInvalid("a trust override is a whole number from 0 to 100")
        if not (wanted.override_reason or "").strip():
            raise RequestInvalid("a trust override needs a written reason")
    if len(wanted.note or "") > MAX_NOTE or len(wanted.override_reason or "") > MAX_NOTE:
        raise RequestInvalid(f"a note or reason is at most {MAX_NOTE} characters")
    scopes = wanted.allowed_scopes
    if len(scopes) > MAX_SCOPES or any(not s or len(s) > MAX_SCOPE_LENGTH for s in scopes):
        raise RequestInvalid(
            f"allow at most {MAX_SCOPES} scopes of 1 to {MAX_SCOPE_LENGTH} characters"
        )


def from_form(fields: dict[str, str]) -> DecisionInput:
    """A decision from the vendor page's form; RequestInvalid for a malformed one."""
    sanctioned = {"yes": True, "no": False, "": None}.get(fields.get("sanctioned", ""), "bad")
    if sanctioned == "bad":
        raise RequestInvalid("sanctioned is yes, no or empty (as the IdP says)")
    override = fields.get("trust_override", "").strip()
    if override and not override.isdigit():
        raise RequestInvalid("a trust override is a whole number from 0 to 100")
    return DecisionInput(
        sanctioned=sanctioned if isinstance(sanctioned, bool) else None,
        allowed_scopes=tuple(s for s in fields.get("allowed_scopes", "").split() if s),
        note=fields.get("note", "").strip() or None,
        trust_override=int(override) if override else None,
        override_reason=fields.get("override_reason", "").strip() or None,
    )
