"""A vendor's trust score, 0 to 100, with its factors, its coverage and its hard gates.

The scheme of research/vendor-trust.md section 3: only known factors count, rescaled by
the weight that is known; coverage says how much is known; below half it is shown as a
range and the vendor as unassessed. Recomputable offline from vendor_catalog.yaml.

The organisation's ``TrustPolicy`` (trust_policy.py keeps it in the database) may
reweight the factors (0 ignores one, as Defender for Cloud Apps' "Ignored"), name the
jurisdictions it accepts, and count unknown factors as 0 (MDCA's N/A switch, 3.2).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from shadowmap.signatures.catalog import CatalogVendor, TrustFacts

logger = logging.getLogger(__name__)

# vendor-trust.md 3.1: the default weights (they add up to 100).
WEIGHTS = {"D1": 20, "D2": 10, "R1": 15, "C1": 15, "C2": 5, "S1": 15, "S2": 10, "G1": 10}
NAMES = {
    "D1": "Training on business data",
    "D2": "Retention and zero data retention",
    "R1": "Residency (a region can be chosen)",
    "C1": "Independent audit (SOC 2, ISO 27001, ISO 42001)",
    "C2": "Sector contracts (HIPAA BAA)",
    "S1": "Incident history, last 36 months",
    "S2": "Admin controls (SSO, SCIM, audit logs)",
    "G1": "Jurisdiction",
}
TRAINING = {"contractual_no": 1.0, "tenant_setting": 0.6, "opt_out": 0.3, "trains_by_default": 0.0}
RETENTION = {"zdr": 1.0, "abuse_logs_30d": 0.7, "documented_longer": 0.4, "undocumented": 0.0}
RESIDENCY = {"pinnable": 1.0, "partial": 0.5, "none": 0.0}
# C1: SOC 2 Type II 0.5, ISO 27001 0.3, ISO 42001 0.2; how much each evidence state counts.
AUDITS = {"soc2_type2": 0.5, "iso27001": 0.3, "iso42001": 0.2}
EVIDENCE = {"yes": 1.0, "gated": 0.9, "claimed": 0.5, "partial": 0.5, "no": 0.0, "conflicting": 0.0}
# S1 deductions per incident type; low-confidence reports count half.
DEDUCTIONS = {
    "customer_data": 0.4,
    "vendor_chain": 0.2,
    "credential_leak": 0.2,
    "vulnerability": 0.1,
    "litigation": 0.1,
}
INCIDENT_WINDOW_DAYS = 36 * 30
# G1 default: jurisdictions accepted when the tenant names none (EU/EEA, UK, US, CA).
ACCEPTED_JURISDICTIONS = frozenset(
    "US CA GB AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "NO IS LI CH".split()
)
# Below this coverage the score is a range and the vendor "unassessed" (3.2).
ASSESSED_COVERAGE = 0.5


@dataclass(frozen=True)
class TrustPolicy:
    """How this organisation weighs the factors; the defaults are vendor-trust.md 3.1's."""

    weights: Mapping[str, int] = field(default_factory=lambda: dict(WEIGHTS))
    accepted_jurisdictions: frozenset[str] = ACCEPTED_JURISDICTIONS
    penalise_unknown: bool = False

    @property
    def total_weight(self) -> int:
        return sum(self.weights.get(f, 0) for f in WEIGHTS)

    @property
    def is_default(self) -> bool:
        return self == DEFAULT_POLICY


DEFAULT_POLICY = TrustPolicy()


@dataclass(frozen=True)
class Factor:
    id: str
    name: str
    weight: int
    value: float | None  # None: unknown, counted nowhere
    detail: str


@dataclass(frozen=True)
class TrustScore:
    score: int | None
    coverage: float
    low: int
    high: int
    assessed: bool
    factors: tuple[Factor, ...]
    gates: tuple[str, ...] = ()
    needs_review: bool = False
    override: int | None = None
    override_reason: str | None = None
    sources: tuple[str, ...] = field(default=())
    # Whether the organisation's policy, not the defaults, weighed the factors.
    custom_policy: bool = False
    penalise_unknown: bool = False

    @property
    def shown(self) -> int | None:
        return self.override if self.override is not None else self.score


def score_vendor(
    vendor: CatalogVendor,
    override: int | None = None,
    override_reason: str | None = None,
    today: date | None = None,
    policy: TrustPolicy = DEFAULT_POLICY,
) -> TrustScore:
    facts = vendor.trust
    unweighted = (
        _simple("D1", facts.training, TRAINING),
        _simple("D2", facts.retention, RETENTION),
        _simple("R1", facts.residency, RESIDENCY),
        _audits(facts),
        _contracts(facts),
        _incidents(facts, today or datetime.now(UTC).date()),
        Factor("S2", NAMES["S2"], WEIGHTS["S2"], None, "not in the catalog yet"),
        _jurisdiction(facts, policy.accepted_jurisdictions),
    )
    factors = tuple(_weighed(f, policy) for f in unweighted)
    total = policy.total_weight or 1  # trust_policy.py refuses an all-zero policy
    known = [f for f in factors if f.value is not None and f.weight]
    known_weight = sum(f.weight for f in known)
    earned = sum(f.weight * (f.value or 0.0) for f in known)
    coverage = known_weight / total
    # 3.2: by default an unknown factor counts nowhere; a strict policy counts it as 0.
    counted = total if policy.penalise_unknown else known_weight
    return TrustScore(
        score=round(100 * earned / counted) if known_weight else None,
        coverage=round(coverage, 2),
        low=round(100 * earned / total),
        high=round(100 * (earned + total - known_weight) / total),
        assessed=coverage >= ASSESSED_COVERAGE,
        factors=factors,
        gates=_gates(facts),
        needs_review=facts.needs_review or facts.training == "conflicting",
        override=override,
        override_reason=override_reason,
        sources=vendor.sources,
        custom_policy=not policy.is_default,
        penalise_unknown=policy.penalise_unknown,
    )


def _weighed(factor: Factor, policy: TrustPolicy) -> Factor:
    weight = policy.weights.get(factor.id, 0)
    if weight == factor.weight:
        return factor
    return Factor(factor.id, factor.name, weight, factor.value, factor.detail)


def _simple(factor: str, state: str, values: dict[str, float]) -> Factor:
    if state == "conflicting":
        # 3.2: conflicting sources count at the lower value and raise needs_review.
        return Factor(
            factor, NAMES[factor], WEIGHTS[factor], min(values.values()), "sources conflict"
        )
    return Factor(
        factor, NAMES[factor], WEIGHTS[factor], values.get(state), state.replace("_", " ")
    )


def _audits(facts: TrustFacts) -> Factor:
    states = {name: getattr(facts, name) for name in AUDITS}
    known = {n: s for n, s in states.items() if s in EVIDENCE}
    value = min(1.0, sum(AUDITS[n] * EVIDENCE[s] for n, s in known.items())) if known else None
    detail = ", ".join(f"{n.replace('_', ' ')}: {s}" for n, s in states.items())
    return Factor("C1", NAMES["C1"], WEIGHTS["C1"], value, detail)


def _contracts(facts: TrustFacts) -> Factor:
    value = EVIDENCE.get(facts.hipaa_baa)
    return Factor(
        "C2", NAMES["C2"], WEIGHTS["C2"], value, f"HIPAA BAA: {facts.hipaa_baa}; DPA not catalogued"
    )


def _incidents(facts: TrustFacts, today: date) -> Factor:
    if not facts.incidents_reviewed:
        return Factor("S1", NAMES["S1"], WEIGHTS["S1"], None, "no incidents were looked up")
    value = 1.0
    counted = []
    for incident in facts.incidents:
        if not _recent(incident.date, today):
            continue
        cut = DEDUCTIONS.get(incident.type, 0.0) * (0.5 if incident.confidence == "low" else 1.0)
        if cut:
            value -= cut
            counted.append(f"{incident.type.replace('_', ' ')} ({incident.date})")
    return Factor(
        "S1", NAMES["S1"], WEIGHTS["S1"], max(0.0, value), "; ".join(counted) or "none recent"
    )


def _recent(when: str, today: date) -> bool:
    """Inside the window, or of an unknown date (which cannot be shown to be old)."""
    try:
        year, month = int(when[:4]), int(when[5:7]) if len(when) >= 7 else 1
    except ValueError:
        return True
    return (today - date(year, month, 1)).days <= INCIDENT_WINDOW_DAYS


def _jurisdiction(facts: TrustFacts, accepted_jurisdictions: frozenset[str]) -> Factor:
    banned = any(i.type == "regulatory" for i in facts.incidents)
    if banned:
        return Factor("G1", NAMES["G1"], WEIGHTS["G1"], 0.0, "government-use bans reported")
    if facts.headquarters == "unknown":
        return Factor("G1", NAMES["G1"], WEIGHTS["G1"], None, "headquarters not looked up")
    accepted = facts.headquarters in accepted_jurisdictions
    return Factor(
        "G1",
        NAMES["G1"],
        WEIGHTS["G1"],
        1.0 if accepted else 0.0,
        f"headquarters {facts.headquarters}",
    )


def _gates(facts: TrustFacts) -> tuple[str, ...]:
    gates = []
    if facts.training == "trains_by_default":
        gates.append("trains on business data with no business opt-out")
    if facts.residency == "none" and facts.headquarters == "CN":
        gates.append("processing only in the PRC")
    return tuple(gates)
