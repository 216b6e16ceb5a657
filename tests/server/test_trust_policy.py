"""The organisation's trust policy: reweighted factors, its own accepted jurisdictions and
the strict "unknown counts as 0" switch change the scores the API shows, on SQLite and
PostgreSQL, through a running collector; a bad policy is a 422 and changes nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
import requests

from shadowmap.server import trust
from shadowmap.signatures.catalog import load_catalog
from tests.server.idp_helpers import ENTRA_FILES, GOOGLE_FILES, asset
from tests.server.pages_helpers import csrf_of, new_token, sign_in_with_token
from tests.server.test_grant_upload import upload

if TYPE_CHECKING:
    from tests.server.conftest import Collector


def put_policy(collector: Collector, body: dict[str, Any], token: str | None = None) -> Any:
    return requests.put(
        collector.url("/api/v1/trust-policy"),
        headers={"Authorization": f"Bearer {token or collector.admin_token}"},
        json=body,
        timeout=10,
    )


def vendor(collector: Collector, key: str) -> dict[str, Any]:
    response = collector.admin_get(f"/api/v1/vendors/{key}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def with_grants(collector: Collector) -> Collector:
    for provider, names in (("google", GOOGLE_FILES), ("entra", ENTRA_FILES)):
        files = [(n, asset(n).read_bytes()) for n in names]
        assert upload(collector, provider, files).status_code == 200
    return collector


def test_reweighting_changes_the_score_and_says_so(with_grants: Collector) -> None:
    before = vendor(with_grants, "openai")["trust_detail"]

    put = put_policy(with_grants, {"weights": {"D1": 0, "G1": 60}})
    after = vendor(with_grants, "openai")["trust_detail"]
    policy = with_grants.admin_get("/api/v1/trust-policy").json()

    assert put.status_code == 200, put.text
    assert not before["policy"]["custom"] and after["policy"]["custom"]
    weights = {f["id"]: f["weight"] for f in after["factors"]}
    assert weights["D1"] == 0 and weights["G1"] == 60 and weights["R1"] == trust.WEIGHTS["R1"]
    known = [f for f in after["factors"] if f["value"] is not None and f["weight"]]
    expected = round(
        100 * sum(f["weight"] * f["value"] for f in known) / sum(f["weight"] for f in known)
    )
    assert after["computed"] == expected
    assert after["computed"] != before["computed"]
    assert policy["weights"]["G1"] == 60 and policy["custom"]


def test_the_accepted_jurisdictions_decide_g1(with_grants: Collector) -> None:
    headquarters = load_catalog().vendor("openai")
    assert headquarters is not None and headquarters.trust.headquarters == "US"

    put_policy(with_grants, {"accepted_jurisdictions": ["DE", "fr"]})
    g1 = next(
        f for f in vendor(with_grants, "openai")["trust_detail"]["factors"] if f["id"] == "G1"
    )
    policy = with_grants.admin_get("/api/v1/trust-policy").json()

    assert g1["value"] == 0.0
    assert policy["accepted_jurisdictions"] == ["DE", "FR"]


def test_penalising_unknowns_lowers_a_partly_known_vendor(with_grants: Collector) -> None:
    catalog = load_catalog()
    openai = catalog.vendor("openai")
    assert openai is not None
    lenient = trust.score_vendor(openai)
    strict_policy = trust.TrustPolicy(penalise_unknown=True)
    strict = trust.score_vendor(openai, policy=strict_policy)

    put_policy(with_grants, {"penalise_unknown": True})
    shown = vendor(with_grants, "openai")["trust_detail"]

    assert lenient.coverage < 1 and strict.score is not None and lenient.score is not None
    assert strict.score < lenient.score and strict.score == strict.low
    assert shown["computed"] == strict.score and shown["policy"]["penalise_unknown"]


def test_a_reset_brings_back_the_defaults(with_grants: Collector) -> None:
    before = vendor(with_grants, "openai")["trust_detail"]["computed"]
    put_policy(with_grants, {"weights": {"D1": 100}})

    reset = requests.delete(
        with_grants.url("/api/v1/trust-policy"),
        headers={"Authorization": f"Bearer {with_grants.admin_token}"},
        timeout=10,
    )

    assert reset.status_code == 200 and not reset.json()["custom"]
    assert vendor(with_grants, "openai")["trust_detail"]["computed"] == before


@pytest.mark.parametrize(
    "body",
    [
        {"weights": {"X9": 10}},
        {"weights": {"D1": -1}},
        {"weights": {"D1": 101}},
        {"weights": {"D1": "ten"}},
        {"weights": dict.fromkeys(trust.WEIGHTS, 0)},
        {"accepted_jurisdictions": ["USA"]},
        {"accepted_jurisdictions": ["<script>"]},
        {"penalise_unknown": "maybe"},
    ],
    ids=["unknown", "negative", "too-big", "text", "all-zero", "alpha3", "script", "not-bool"],
)
def test_a_bad_policy_is_a_422_and_changes_nothing(
    sqlite_collector: Collector, body: dict[str, Any]
) -> None:
    put_policy(sqlite_collector, {"weights": {"S1": 30}})
    before = sqlite_collector.admin_get("/api/v1/trust-policy").json()

    refused = put_policy(sqlite_collector, body)

    assert refused.status_code == 422, refused.text
    assert "<script>" not in refused.text
    assert sqlite_collector.admin_get("/api/v1/trust-policy").json() == before


def test_only_an_admin_changes_the_policy(sqlite_collector: Collector) -> None:
    viewer = new_token(sqlite_collector, "viewer", "reader")

    read = sqlite_collector.admin_get("/api/v1/trust-policy", token=viewer)
    refused = put_policy(sqlite_collector, {"weights": {"D1": 1}}, token=viewer)

    assert read.status_code == 200 and not read.json()["custom"]
    assert refused.status_code == 403
    assert not sqlite_collector.admin_get("/api/v1/trust-policy").json()["custom"]


def test_the_admin_page_sets_and_resets_the_policy(sqlite_collector: Collector) -> None:
    sign_in_with_token(sqlite_collector)
    http = sqlite_collector.http
    form = {f"weight_{f}": str(w) for f, w in trust.WEIGHTS.items()}
    form |= {"weight_G1": "40", "accepted_jurisdictions": "us, de gb", "penalise_unknown": "on"}
    url = sqlite_collector.url("/admin/trust-policy")

    saved = http.post(url, data={**form, "csrf": csrf_of(sqlite_collector)}, timeout=10)
    policy = sqlite_collector.admin_get("/api/v1/trust-policy").json()
    page = http.get(sqlite_collector.url("/admin"), timeout=10).text
    bad = http.post(
        url, data={**form, "weight_D1": "lots", "csrf": csrf_of(sqlite_collector)}, timeout=10
    )
    reset = http.post(url, data={"action": "reset", "csrf": csrf_of(sqlite_collector)}, timeout=10)

    assert saved.status_code == 200  # the redirect, followed to /admin
    assert policy["weights"]["G1"] == 40 and policy["penalise_unknown"]
    assert policy["accepted_jurisdictions"] == ["DE", "GB", "US"]
    assert 'name="weight_G1" value="40"' in page
    assert bad.status_code == 422
    assert reset.status_code == 200
    assert not sqlite_collector.admin_get("/api/v1/trust-policy").json()["custom"]


@pytest.mark.parametrize("weight", ["\u00b2", "\u0661", "9" * 5000])
def test_the_admin_page_takes_only_ascii_weights_of_up_to_3_digits(
    sqlite_collector: Collector, weight: str
) -> None:
    """Superscript two and Arabic-Indic one are digits to str.isdigit; int() refuses the
    first, and any number of more than 4,300 digits."""
    sign_in_with_token(sqlite_collector)
    form = {f"weight_{f}": str(w) for f, w in trust.WEIGHTS.items()} | {"weight_D1": weight}

    refused = sqlite_collector.http.post(
        sqlite_collector.url("/admin/trust-policy"),
        data={**form, "csrf": csrf_of(sqlite_collector)},
        timeout=10,
    )

    assert refused.status_code == 422, refused.text
    assert "whole number from 0 to 100" in refused.text
    assert not sqlite_collector.admin_get("/api/v1/trust-policy").json()["custom"]


def test_a_token_with_a_long_name_may_set_the_policy(collector: Collector) -> None:
    """Who set it is kept in a 64-character column; "token:" and a 100-character name
    once overflowed it on PostgreSQL."""
    admin = new_token(collector, "admin", "n" * 100)

    put = put_policy(collector, {"weights": {"D1": 5}}, token=admin)

    assert put.status_code == 200, put.text
    assert collector.admin_get("/api/v1/trust-policy").json()["weights"]["D1"] == 5


def test_first_policies_saved_at_once_all_succeed(collector: Collector) -> None:
    """Two admins (or replicas) saving the first policy together: no row yet for either,
    so both insert it; the later one writes over the earlier, as any later save does."""
    ready = threading.Barrier(6)

    def save(weight: int) -> int:
        ready.wait()
        return int(put_policy(collector, {"weights": {"D1": weight}}).status_code)

    for _ in range(3):
        assert collector.http.delete(
            collector.url("/api/v1/trust-policy"),
            headers={"Authorization": f"Bearer {collector.admin_token}"},
            timeout=10,
        ).ok
        with ThreadPoolExecutor(6) as pool:
            codes = list(pool.map(save, range(1, 7)))
        assert codes == [200] * 6
        assert collector.admin_get("/api/v1/trust-policy").json()["weights"]["D1"] in range(1, 7)


def test_first_decisions_about_a_vendor_made_at_once_all_succeed(collector: Collector) -> None:
    """The same race for a vendor's first decision (vendor_settings.decide)."""
    vendors = ["openai", "anthropic", "perplexity"]
    ready = threading.Barrier(6)

    def decide(args: tuple[str, int]) -> int:
        key, n = args
        ready.wait()
        body = {"sanctioned": n % 2 == 0, "note": f"decision {n}"}
        response = requests.put(
            collector.url(f"/api/v1/vendors/{key}"),
            headers={"Authorization": f"Bearer {collector.admin_token}"},
            json=body,
            timeout=10,
        )
        return int(response.status_code)

    for key in vendors:
        with ThreadPoolExecutor(6) as pool:
            codes = list(pool.map(decide, [(key, n) for n in range(6)]))
        assert codes == [200] * 6, key
