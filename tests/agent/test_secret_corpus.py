"""The shared secrets corpus (tests/assets/secrets/cases.jsonl): every case, through scan-repo.

Each case is written as <id>/<file> the way corpus-check lays it out; a secret case must
be found with the right kind, a clean case must give no finding, no value may be printed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shadowmap.agent.repo import scan_repo
from shadowmap.agent.secret_engine import SecretEngine
from shadowmap.signatures import builtin_pack
from tests.assets import secret_cases

# The corpus names kinds its own way; these are the signature ids they must come out as.
KINDS = {
    "openai-legacy": {"openai-legacy-key"},
    "openai-project": {"openai-project-key"},
    "openai-svcacct": {"openai-project-key"},
    "openai-admin": {"openai-admin-key"},
    "anthropic-api": {"anthropic-api-key"},
    "anthropic-admin": {"anthropic-admin-key"},
    "anthropic-oauth": {"anthropic-oauth-token"},
    "google-api-key": {"google-api-key"},
    "gemini-aq-key": {"gemini-api-key"},
    "huggingface": {"huggingface-token"},
    "groq": {"groq-api-key"},
    "replicate": {"replicate-api-token"},
    "perplexity": {"perplexity-api-key"},
    "xai": {"xai-api-key"},
    "mistral": {"mistral-api-key"},
    "cohere": {"cohere-api-key"},
    "deepseek": {"deepseek-api-key"},
    "openrouter": {"openrouter-api-key"},
    "together-legacy": {"together-legacy-key"},
    "langsmith": {"langsmith-api-key"},
    "elevenlabs": {"elevenlabs-api-key"},
    "aws-bedrock-long": {"aws-bedrock-api-key"},
    "aws-bedrock-short": {"aws-bedrock-short-term-key"},
    "azure-openai": {"azure-openai-key"},
    "wandb": {"wandb-api-key"},
    "wandb-v1": {"wandb-api-key-v1"},
    "cerebras": {"cerebras-api-key"},
    "langfuse-pair": {"langfuse-secret-key"},
    "brave-search": {"brave-search-api-key"},
    "github-pat": {"github-token"},
    "github-fine-grained": {"github-fine-grained-pat"},
    "slack-session": {"slack-session-token", "slack-session-cookie"},
    "notion": {"notion-token"},
    "notion-legacy": {"notion-legacy-token"},
    "atlassian": {"atlassian-api-token"},
    "stripe": {"stripe-secret-key"},
    "supabase-secret-pair": {"supabase-secret-key"},
}
# Clean cases that are references to a secret store: the engine names the store.
REFERENCES = {
    "1password-ref": "onepassword-reference",
    "vault-ref": "vault-reference",
    "keychain-ref": "keychain-reference",
    "aws-sm-ref": "aws-secrets-manager-reference",
}
CASES = secret_cases()


@pytest.fixture(scope="module")
def corpus_scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    root = tmp_path_factory.mktemp("corpus")
    for case in CASES:
        path = root / case["id"] / case.get("file", "snippet.txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(case["text"], encoding="utf-8")
    report = scan_repo(root, history=False).report
    raw = report.model_dump_json()
    for case in CASES:
        for token in re.findall(r"[A-Za-z0-9_\-.=+/%]{24,}", case["text"]):
            assert case["id"] in token or token not in raw, f"a value of {case['id']} leaked"
    kinds: dict[str, set[str]] = {case["id"]: set() for case in CASES}
    for finding in report.findings:
        if finding.kind.value != "secret":
            continue  # browser-session findings (a session token is both) are counted elsewhere
        assert finding.location is not None and finding.secret is not None
        kinds[finding.location.path.split("/")[0]].add(finding.secret.kind)
    return kinds


def test_the_corpus_is_all_here():
    assert len(CASES) == 64
    assert {c["kind"] for c in CASES if c["expect"] == "secret"} == set(KINDS)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_each_corpus_case(case, corpus_scan):
    found = corpus_scan[case["id"]]
    if case["expect"] == "secret":
        assert found == KINDS[case["kind"]], case["source"]
    else:
        assert found == set(), case["source"]


@pytest.mark.parametrize("kind, reference", sorted(REFERENCES.items()))
def test_store_references_are_named_not_flagged(kind, reference):
    case = next(c for c in CASES if c["kind"] == kind)
    engine = SecretEngine(builtin_pack())
    assert list(engine.find(case["text"])) == []
    assert {r.rule.id for r in engine.references(case["text"])} == {reference}


def test_corpus_check_layout_gives_json_with_a_finding_per_secret_case(tmp_path, shadowmap):
    for case in CASES[:6]:
        path = tmp_path / "c" / case["id"] / case.get("file", "snippet.txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(case["text"], encoding="utf-8")

    run = shadowmap("scan-repo", str(tmp_path / "c"), "--format", "json")

    assert run.code == 1, run.stderr
    paths = {Path(f["location"]["path"]).parts[0] for f in json.loads(run.stdout)["findings"]}
    assert paths == {c["id"] for c in CASES[:6] if c["expect"] == "secret"}
