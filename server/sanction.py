"""Whether the organisation sanctions a vendor, and which scopes it allows it, with why.

An admin's decision (vendor_settings) wins; without one, an active SSO app for the vendor
in the IdP (Okta) counts as sanctioned and an inactive one as not; else it is unsanctioned:
shadow AI. Sanctioned vendors are allowed sign-in scopes only, unless an admin lists more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from shadowmap.server.scopes import Level, classify
from shadowmap.server.tables import VendorSetting
from shadowmap.signatures.catalog import Catalog

if TYPE_CHECKING:
    from shadowmap.server.inventory import AppView

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    sanctioned: bool
    reason: str
    setting: VendorSetting | None = None
    allowed_scopes: frozenset[str] = frozenset()

    def unsanctioned_scopes(self, scopes: list[str]) -> list[str]:
        """The scopes past sign-in that this decision does not allow."""
        return [
            s
            for s in scopes
            if s not in self.allowed_scopes and classify(s).level.rank >= Level.MEDIUM.rank
        ]


def undecided() -> Decision:
    return Decision(False, "no one sanctioned it and no SSO app for it is active in the IdP")


def decisions(session: Session, catalog: Catalog, apps: list[AppView]) -> dict[str, Decision]:
    settings = {s.vendor_id: s for s in session.scalars(select(VendorSetting))}
    found: dict[str, Decision] = {}
    for app in apps:
        vendor = app.match.vendor_id
        if vendor and app.sso_status and vendor not in found:
            found[vendor] = _from_sso(app)
        elif vendor and app.sso_status == "ACTIVE":
            found[vendor] = _from_sso(app)  # an active app wins over an inactive one
    for vendor_id, setting in settings.items():
        found[vendor_id] = _from_setting(setting, found.get(vendor_id))
    return found


def _from_sso(app: AppView) -> Decision:
    note = f" (note: {app.sso_note})" if app.sso_note else ""
    if app.sso_status == "ACTIVE":
        return Decision(True, f"SSO app {app.name!r} is active in {app.provider}{note}")
    return Decision(
        False, f"SSO app {app.name!r} is {str(app.sso_status).lower()} in {app.provider}{note}"
    )


def _from_setting(setting: VendorSetting, sso: Decision | None) -> Decision:
    allowed = frozenset(setting.allowed_scopes or ())
    if setting.sanctioned is None:
        base = sso or undecided()
        return Decision(base.sanctioned, base.reason, setting, allowed)
    verb = "sanctioned" if setting.sanctioned else "marked unsanctioned"
    note = f": {setting.note}" if setting.note else ""
    return Decision(setting.sanctioned, f"{verb} by {setting.updated_by}{note}", setting, allowed)


def signature_vendor_name(vendor_id: str) -> str:
    return _signature_names().get(vendor_id, vendor_id)


@cache
def _signature_names() -> dict[str, str]:
    from shadowmap.signatures import builtin_pack

    return {vendor.id: vendor.name for vendor in builtin_pack().vendors.values()}
