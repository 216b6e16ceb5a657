"""The vendor catalog (vendor_catalog.yaml): AI vendors, how they show in IdP grants, and
the sourced facts their trust score rests on; plus the common apps that are not AI.

Validated against schema/vendor_catalog.json when loaded; a catalog that fails raises
SignatureError and is never half used. Loaded on first use, never at import time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from shadowmap.agent.errors import SignatureError

logger = logging.getLogger(__name__)

CATALOG_FILE = Path(__file__).resolve().parent / "vendor_catalog.yaml"
SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "vendor_catalog.json"


@dataclass(frozen=True)
class Incident:
    date: str
    type: str
    confidence: str
    summary: str


@dataclass(frozen=True)
class TrustFacts:
    """The catalog's facts for vendor-trust.md's factors; "unknown" is never "no"."""

    training: str
    retention: str
    residency: str
    soc2_type2: str
    iso27001: str
    iso42001: str
    hipaa_baa: str
    headquarters: str
    incidents_reviewed: bool
    incidents: tuple[Incident, ...]
    needs_review: bool


@dataclass(frozen=True)
class KnownClient:
    id: str
    name: str
    confidence: str


@dataclass(frozen=True)
class CatalogVendor:
    id: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    web_domains: tuple[str, ...]
    api_hosts: tuple[str, ...]
    mcp_hosts: tuple[str, ...]
    app_names: tuple[str, ...]
    publishers: tuple[str, ...]
    client_ids: tuple[KnownClient, ...]
    first_party_owner: str | None
    signature_vendors: tuple[str, ...]
    trust: TrustFacts
    sources: tuple[str, ...]


@dataclass(frozen=True)
class NotAi:
    """A common app that grants and devices show but that is not AI (Slack, Zoom, ...)."""

    id: str
    name: str
    app_names: tuple[str, ...]
    client_ids: tuple[str, ...]
    publishers: tuple[str, ...]
    domains: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    vendors: tuple[CatalogVendor, ...]
    not_ai: tuple[NotAi, ...]
    shared_sources: dict[str, str]

    def vendor(self, vendor_id: str) -> CatalogVendor | None:
        return next((v for v in self.vendors if v.id == vendor_id), None)

    def for_signature_vendor(self, signature_vendor: str) -> CatalogVendor | None:
        """The catalog vendor that agent findings of this signatures vendor id belong to."""
        wanted = signature_vendor.lower()
        return next((v for v in self.vendors if wanted in v.signature_vendors), None)


@cache
def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    data = _validated(path)
    return Catalog(
        vendors=tuple(_vendor(item) for item in data["vendors"]),
        not_ai=tuple(_not_ai(item) for item in data["not_ai"]),
        shared_sources=dict(data.get("shared_sources") or {}),
    )


def _validated(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise SignatureError(f"cannot read the vendor catalog {path}: {exc}") from None
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise SignatureError(
            f"vendor catalog {path}: {where}: {errors[0].message}",
            hint="schema/vendor_catalog.json describes every field",
        )
    ids = [item["id"] for item in data["vendors"]]
    if len(ids) != len(set(ids)):
        raise SignatureError(f"vendor catalog {path} repeats a vendor id")
    return data  # type: ignore[no-any-return]


def _vendor(item: dict[str, Any]) -> CatalogVendor:
    oauth = item["oauth"]
    trust = item["trust"]
    return CatalogVendor(
        id=item["id"],
        name=item["name"],
        kind=item["kind"],
        aliases=tuple(item["aliases"]),
        web_domains=tuple(item["web_domains"]),
        api_hosts=tuple(item.get("api_hosts", ())),
        mcp_hosts=tuple(item.get("mcp_hosts", ())),
        app_names=tuple(oauth["app_names"]),
        publishers=tuple(oauth["publishers"]),
        client_ids=tuple(
            KnownClient(c["id"], c.get("name", ""), c["confidence"]) for c in oauth["client_ids"]
        ),
        first_party_owner=oauth.get("first_party_owner"),
        signature_vendors=tuple(item.get("signature_vendors", ())),
        trust=TrustFacts(
            **{k: v for k, v in trust.items() if k != "incidents"},
            incidents=tuple(Incident(**incident) for incident in trust["incidents"]),
        ),
        sources=tuple(item["source"]),
    )


def _not_ai(item: dict[str, Any]) -> NotAi:
    return NotAi(
        id=item["id"],
        name=item["name"],
        app_names=tuple(item["app_names"]),
        client_ids=tuple(item.get("client_ids", ())),
        publishers=tuple(item["publishers"]),
        domains=tuple(item["domains"]),
    )
