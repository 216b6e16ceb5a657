"""The organisation's vendor-trust policy: factor weights, accepted jurisdictions and
whether an unknown factor counts as 0; kept in one database row so every replica and
``collector report`` score alike.

Refuses a bad policy whole (RequestInvalid) and then changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shadowmap.server.db import last_write_wins
from shadowmap.server.errors import RequestInvalid
from shadowmap.server.tables import TRUST_POLICY_ROW, TrustPolicyRow, utcnow
from shadowmap.server.trust import ACCEPTED_JURISDICTIONS, DEFAULT_POLICY, WEIGHTS, TrustPolicy

logger = logging.getLogger(__name__)

# A factor's weight, as Defender for Cloud Apps' importance levels span (0 ignores it).
MAX_WEIGHT = 100
# ISO 3166-1 alpha-2 codes, as the catalog's headquarters field holds them.
COUNTRY_CODE = re.compile(r"[A-Z]{2}")
MAX_JURISDICTIONS = 300


@dataclass(frozen=True)
class PolicyInput:
    weights: Mapping[str, int]  # any subset of the factor ids; the rest keep their default
    accepted_jurisdictions: Sequence[str] | None = None  # None: the default list
    penalise_unknown: bool = False


def load(session: Session) -> TrustPolicy:
    row = session.get(TrustPolicyRow, TRUST_POLICY_ROW)
    if row is None:
        return DEFAULT_POLICY
    weights = {f: int(row.weights.get(f, w)) for f, w in WEIGHTS.items()}
    return TrustPolicy(weights, frozenset(row.accepted_jurisdictions), row.penalise_unknown)


def save(session: Session, wanted: PolicyInput, made_by: str) -> TrustPolicy:
    policy = _checked(wanted)
    last_write_wins(session, lambda: _write(session, policy, made_by))
    logger.info("trust policy changed by %s", made_by)
    return policy


def _write(session: Session, policy: TrustPolicy, made_by: str) -> None:
    row = session.get(TrustPolicyRow, TRUST_POLICY_ROW)
    if row is None:
        row = TrustPolicyRow(id=TRUST_POLICY_ROW)
        session.add(row)
    row.weights = dict(policy.weights)
    row.accepted_jurisdictions = sorted(policy.accepted_jurisdictions)
    row.penalise_unknown = policy.penalise_unknown
    row.updated_by = made_by
    row.updated_at = utcnow()
    session.commit()


def reset(session: Session, made_by: str) -> TrustPolicy:
    row = session.get(TrustPolicyRow, TRUST_POLICY_ROW)
    if row is not None:
        session.delete(row)
        session.commit()
    logger.info("trust policy reset to the defaults by %s", made_by)
    return DEFAULT_POLICY


def document(policy: TrustPolicy) -> dict[str, object]:
    return {
        "weights": dict(policy.weights),
        "default_weights": dict(WEIGHTS),
        "accepted_jurisdictions": sorted(policy.accepted_jurisdictions),
        "penalise_unknown": policy.penalise_unknown,
        "custom": not policy.is_default,
    }


def _checked(wanted: PolicyInput) -> TrustPolicy:
    unknown = sorted(set(wanted.weights) - set(WEIGHTS))
    if unknown:
        raise RequestInvalid(
            f"unknown trust factors: {', '.join(unknown)[:200]}; the factors are "
            f"{', '.join(WEIGHTS)}"
        )
    weights = dict(WEIGHTS)
    for factor, weight in wanted.weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise RequestInvalid(f"the weight of {factor} is a whole number")
        if not 0 <= weight <= MAX_WEIGHT:
            raise RequestInvalid(f"the weight of {factor} is from 0 to {MAX_WEIGHT}")
        weights[factor] = weight
    if not any(weights.values()):
        raise RequestInvalid("at least one trust factor needs a weight above 0")
    return TrustPolicy(
        weights, _jurisdictions(wanted.accepted_jurisdictions), wanted.penalise_unknown
    )


def _jurisdictions(codes: Sequence[str] | None) -> frozenset[str]:
    if codes is None:
        return ACCEPTED_JURISDICTIONS
    if len(codes) > MAX_JURISDICTIONS:
        raise RequestInvalid(f"name at most {MAX_JURISDICTIONS} jurisdictions")
    found = {str(c).strip().upper() for c in codes if str(c).strip()}
    bad = sorted(c for c in found if not COUNTRY_CODE.fullmatch(c))
    if bad:
        raise RequestInvalid(
            f"{len(bad)} jurisdictions are not ISO 3166-1 alpha-2 codes (e.g. US, DE, GB)"
        )
    return frozenset(found)
