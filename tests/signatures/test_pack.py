"""The signature pack: valid against its schemas, sourced, and each key kind tested."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from shadowmap.agent.errors import SignatureError
from shadowmap.agent.secret_engine import SecretEngine
from shadowmap.signatures import BUILTIN_DIR, builtin_pack, load_pack
from tests import fakekeys


def test_builtin_pack_loads_and_every_entry_names_its_source():
    pack = builtin_pack()
    entries = [*pack.apps, *pack.mcp_clients, *pack.secrets, *pack.vendors.values()]
    assert all(len(e.source) > 3 for e in entries)
    assert {c.id for c in pack.mcp_clients} >= {
        "claude-desktop",
        "claude-code",
        "cursor",
        "vscode",
        "windsurf",
    }
    assert len(pack.apps) >= 10
    assert {s.vendor for s in pack.secrets} >= {
        "openai",
        "anthropic",
        "google",
        "huggingface",
        "github",
    }


# Clients that exist on one OS only (Visual Studio is a Windows IDE).
ONE_OS_CLIENTS = {"visual-studio": "windows"}


def test_every_mcp_client_has_paths_for_each_os():
    for client in builtin_pack().mcp_clients:
        for os_name in ("linux", "macos", "windows"):
            if ONE_OS_CLIENTS.get(client.id, os_name) != os_name:
                continue
            assert any(c.paths.for_os(os_name) for c in client.configs), (client.id, os_name)


def _broken_copy(tmp_path: Path, stem: str, mutate) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(BUILTIN_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    data = yaml.safe_load((target / f"{stem}.yaml").read_text())
    mutate(data)
    (target / f"{stem}.yaml").write_text(yaml.safe_dump(data))
    return target


@pytest.mark.parametrize(
    "stem, mutate, message",
    [
        ("apps", lambda d: d["apps"][0].pop("source"), "'source' is a required property"),
        ("secrets", lambda d: d["secrets"][0].update(pattern="(unclosed"), "bad pattern"),
        (
            "mcp_clients",
            lambda d: d["clients"][0]["configs"][0].update(format="ini"),
            "is not one of",
        ),
        ("apps", lambda d: d["apps"][1].update(id=d["apps"][0]["id"]), "duplicate ids"),
        (
            "secrets",
            lambda d: d["secrets"][0].update(vendor="nobody"),
            "vendors not in vendors.yaml",
        ),
    ],
)
def test_a_broken_pack_is_refused(tmp_path, stem, mutate, message):
    with pytest.raises(SignatureError, match=message):
        load_pack(_broken_copy(tmp_path, stem, mutate))


# One row per kind (and per way of writing it): a value that must be flagged, in a
# realistic line; the engine must name that kind and only that kind, on that line.
SHOULD_FLAG = [
    ("openai-legacy-key", lambda: f"OPENAI_API_KEY={fakekeys.openai_legacy()}"),
    ("openai-project-key", lambda: f'client = OpenAI(api_key="{fakekeys.openai_project()}")'),
    ("anthropic-api-key", lambda: f'"ANTHROPIC_API_KEY": "{fakekeys.anthropic()}"'),
    ("google-api-key", lambda: f"const key = '{fakekeys.google()}';"),
    ("huggingface-token", lambda: f'login(token=\\"{fakekeys.huggingface()}\\")'),
    ("github-token", lambda: f"GITHUB_TOKEN={fakekeys.github_classic()}"),
    ("github-fine-grained-pat", lambda: f"Authorization: Bearer {fakekeys.github_fine_grained()}"),
    ("openai-project-key", lambda: f"      OPENAI_API_KEY: {fakekeys.openai_svcacct()}"),
    ("openai-admin-key", lambda: f'export OPENAI_ADMIN_KEY="{fakekeys.openai_admin()}"'),
    ("openai-none-key", lambda: f"OPENAI_API_KEY={fakekeys.openai_none()}"),
    ("anthropic-admin-key", lambda: f"ANTHROPIC_ADMIN_KEY='{fakekeys.anthropic_admin()}'"),
    ("anthropic-oauth-token", lambda: f"CLAUDE_CODE_OAUTH_TOKEN={fakekeys.anthropic_oauth()}"),
    ("gemini-api-key", lambda: f"GEMINI_API_KEY={fakekeys.gemini_aq()}"),
    ("google-oauth-client-secret", lambda: f'"client_secret": "{fakekeys.google_oauth_secret()}"'),
    ("huggingface-org-token", lambda: f"HF_TOKEN={fakekeys.huggingface_org()}"),
    (
        "huggingface-token",
        lambda: f"git clone https://me:{fakekeys.huggingface()}@huggingface.co/x",
    ),
    ("azure-openai-key", lambda: f"AZURE_OPENAI_API_KEY={fakekeys.hex_key(32, 60)}"),
    (
        "azure-openai-key",
        lambda: f'AzureOpenAI(api_key="{fakekeys.azure_openai_84()}")',
    ),
    ("aws-access-key-id", lambda: f"aws_access_key_id = {fakekeys.aws_access_key_id()}"),
    ("aws-secret-access-key", lambda: f"aws_secret_access_key = {fakekeys.aws_secret()}"),
    (
        "aws-bedrock-api-key",
        lambda: f'os.environ["AWS_BEARER_TOKEN_BEDROCK"] = "{fakekeys.bedrock_long()}"',
    ),
    ("aws-bedrock-short-term-key", lambda: f"AWS_BEARER_TOKEN_BEDROCK={fakekeys.bedrock_short()}"),
    ("groq-api-key", lambda: f'GROQ_API_KEY = "{fakekeys.groq()}"'),
    ("xai-api-key", lambda: f'client = Client(api_key="{fakekeys.xai()}")'),
    ("mistral-api-key", lambda: f'client = Mistral(api_key="{fakekeys.mistral()}")'),
    (
        "gong-access-key",
        lambda: "GONG_ACCESS_KEY=" + fakekeys.chunk(24, 64, fakekeys.LOWER_ALNUM.upper()),
    ),
    ("gong-access-key", lambda: f'gong_access_key_secret: "{fakekeys.chunk(56, 65)}"'),
    ("mistral-api-key", lambda: f"MISTRAL_API_KEY={fakekeys.mistral(64)}"),
    (
        "mistral-api-key",
        lambda: f'llm = ChatMistralAI(model="mistral-large", api_key="{fakekeys.mistral(65)}")',
    ),
    ("cohere-api-key", lambda: f'co = cohere.ClientV2(api_key="{fakekeys.cohere()}")'),
    ("cohere-api-key", lambda: f"CO_API_KEY={fakekeys.cohere(66)}"),
    ("deepseek-api-key", lambda: f"DEEPSEEK_API_KEY={fakekeys.deepseek()}"),
    (
        "openrouter-api-key",
        lambda: f'{{"env": {{"OPENROUTER_API_KEY": "{fakekeys.openrouter()}"}}}}',
    ),
    ("replicate-api-token", lambda: f"export REPLICATE_API_TOKEN={fakekeys.replicate()}"),
    ("perplexity-api-key", lambda: f'PPLX = "{fakekeys.perplexity()}"'),
    ("fireworks-api-key", lambda: f'export FIREWORKS_API_KEY="{fakekeys.fireworks()}"'),
    ("together-api-key", lambda: f"TOGETHER_API_KEY={fakekeys.together()}"),
    ("together-legacy-key", lambda: f'together.api_key = "{fakekeys.hex_key(64, 67)}"'),
    ("cerebras-api-key", lambda: f"CEREBRAS_API_KEY={fakekeys.cerebras()}"),
    ("nvidia-api-key", lambda: f'NVIDIA_API_KEY="{fakekeys.nvidia()}"'),
    ("vercel-ai-gateway-key", lambda: f"AI_GATEWAY_API_KEY={fakekeys.vercel_gateway()}"),
    ("llamacloud-api-key", lambda: f"LLAMA_CLOUD_API_KEY={fakekeys.llamacloud()}"),
    ("langsmith-api-key", lambda: f"LANGSMITH_API_KEY={fakekeys.langsmith()}"),
    ("langfuse-secret-key", lambda: f"LANGFUSE_SECRET_KEY={fakekeys.langfuse_secret()}"),
    ("pinecone-api-key", lambda: f"pc = Pinecone(api_key='{fakekeys.pinecone()}')"),
    ("pinecone-legacy-key", lambda: f'PINECONE_API_KEY="{fakekeys.uuid_like(68)}"'),
    ("wandb-api-key", lambda: f"WANDB_API_KEY={fakekeys.hex_key(40, 69)}"),
    ("wandb-api-key", lambda: f'wandb.login(key="{fakekeys.hex_key(40, 70)}")'),
    ("wandb-api-key", lambda: f"$ wandb login --relogin {fakekeys.hex_key(40, 72)}"),
    (
        "pinecone-legacy-key",
        lambda: f'pinecone.init(api_key="{fakekeys.uuid_like(73)}", environment="gcp")',
    ),
    (
        "mistral-api-key",
        lambda: (
            f'llm = ChatMistralAI(model="mistral-large-latest", temperature=0, '
            f'api_key="{fakekeys.mistral(74)}")'
        ),
    ),
    ("wandb-api-key-v1", lambda: f'wandb.login(key="{fakekeys.wandb_v1()}")'),
    ("elevenlabs-api-key", lambda: f"ELEVENLABS_API_KEY={fakekeys.elevenlabs()}"),
    ("elevenlabs-legacy-key", lambda: f'headers = {{"xi-api-key": "{fakekeys.hex_key(32, 71)}"}}'),
    ("tavily-api-key", lambda: f'key = os.getenv("TAVILY_API_KEY", "{fakekeys.tavily()}")'),
    ("brave-search-api-key", lambda: f'"BRAVE_API_KEY": "{fakekeys.brave()}"'),
    ("github-token", lambda: f"token: {fakekeys.github_server()}"),
    ("slack-bot-token", lambda: f"SLACK_BOT_TOKEN={fakekeys.slack_bot()}"),
    ("slack-user-token", lambda: f"SLACK_USER_TOKEN={fakekeys.slack_user()}"),
    ("slack-session-token", lambda: f"SLACK_MCP_XOXC_TOKEN={fakekeys.slack_session()}"),
    ("slack-session-cookie", lambda: f"SLACK_MCP_XOXD_TOKEN={fakekeys.slack_cookie()}"),
    ("slack-app-token", lambda: f"SLACK_APP_TOKEN={fakekeys.slack_app()}"),
    ("slack-config-token", lambda: f"SLACK_CONFIG_TOKEN={fakekeys.slack_config()}"),
    ("slack-legacy-token", lambda: f"token = '{fakekeys.slack_legacy()}'"),
    ("slack-webhook-url", lambda: f"webhook: {fakekeys.slack_webhook()}"),
    (
        "notion-token",
        lambda: (
            '{"OPENAPI_MCP_HEADERS": "{\\"Authorization\\": \\"Bearer '
            + fakekeys.notion()
            + '\\"}"}'
        ),
    ),
    ("notion-legacy-token", lambda: f"NOTION_TOKEN={fakekeys.notion_legacy()}"),
    ("linear-api-key", lambda: f"LINEAR_API_KEY={fakekeys.linear()}"),
    ("atlassian-api-token", lambda: f"JIRA_API_TOKEN={fakekeys.atlassian()}"),
    ("stripe-secret-key", lambda: f'"args": ["--api-key={fakekeys.stripe_live()}"]'),
    ("stripe-test-key", lambda: f"STRIPE_SECRET_KEY={fakekeys.stripe_test()}"),
    ("stripe-webhook-secret", lambda: f"STRIPE_WEBHOOK_SECRET={fakekeys.stripe_webhook()}"),
    ("supabase-access-token", lambda: f'"SUPABASE_ACCESS_TOKEN": "{fakekeys.supabase_pat()}"'),
    ("supabase-secret-key", lambda: f"SUPABASE_SECRET_KEY={fakekeys.supabase_secret()}"),
    ("supabase-service-role-key", lambda: f"SUPABASE_SERVICE_ROLE_KEY={fakekeys.jwt()}"),
    (
        "onepassword-service-account-token",
        lambda: f"OP_SERVICE_ACCOUNT_TOKEN={fakekeys.onepassword_service()}",
    ),
]
# Kinds that need a companion elsewhere in the file: the line, with the companion after it.
COMPANIONS = {
    "azure-openai-key": "AZURE_OPENAI_ENDPOINT=https://contoso.openai.azure.com/",
    "deepseek-api-key": "# deepseek",
    "fireworks-api-key": "# fireworks",
    "brave-search-api-key": '"command": "npx @brave/brave-search-mcp-server"',
    "notion-legacy-token": "# notion",
    "supabase-service-role-key": "SUPABASE_URL=https://abcd.supabase.co",
}
# Look-alikes that are not credentials.
SHOULD_NOT_FLAG = [
    "GONG_BASE_URL=https://us-4011.api.gong.io",
    "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "GITHUB_TOKEN=" + "ghp_" + "X" * 36,
    "GOOGLE_API_KEY=" + "AIza" + "Sy" + "abcdefghijklmnopqrstuvwxyz1234567",
    "token = os.environ['HF_TOKEN']",
    "from huggingface_hub import hf_hub_download",
    "key: ${{ secrets.OPENAI_API_KEY }}",
    "prefix_" + fakekeys.huggingface(),  # part of a longer identifier
    "GEMINI_API_KEY=AIza" + "SyAbCdEfGhIjKlMnOpQrStUvWxYz1234567",  # documented shape
    "AWS_ACCESS_KEY_ID=AKIA" + "IOSFODNN7EXAMPLE",  # AWS's documented example
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
    "STRIPE_KEY=sk_" + "test_" + "4eC39HqLyjWDarjtT1zdp7dc",  # Stripe's documented test key
    "STRIPE_SECRET_KEY=sk_test_your_stripe_secret_key_here",
    "ANTHROPIC_API_KEY=sk-ant-api03-...",
    "OPENAI_API_KEY=${OPENAI_API_KEY}",
    "api_key = os.getenv('MISTRAL_API_KEY')",
    "MISTRAL_API_KEY=" + "your-mistral-api-key-goes-here-00",
    "mistral_model_sha = 'e3ee4e0eb1bef15474d033a4db0083c8'",  # a hash: no capitals
    "cohere_cache_digest = " + fakekeys.hex_key(40, 80),
    "wandb @ git+https://github.com/wandb/wandb@" + fakekeys.hex_key(40, 81),
    "WANDB_RUN_ID=" + fakekeys.hex_key(40, 82),  # no key name after wandb
    "together_checksum_sha256 = " + fakekeys.hex_key(64, 83),
    "PINECONE_INDEX_HOST=https://docs-example-4zo0ijk.svc.us-east1-aws.pinecone.io",
    "PINECONE_INDEX_ID=" + fakekeys.uuid_like(84),  # not named a key
    "request_key = " + fakekeys.uuid_like(85),
    "NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY=sb_publishable_" + fakekeys.chunk(31, 86),
    "LANGFUSE_PUBLIC_KEY=" + fakekeys.langfuse_public(),
    "SLACK_BOT_TOKEN=xoxb-your-bot-token",
    "SLACK_BOT_TOKEN=xoxb-" + "0" * 12 + "-" + "0" * 13 + "-" + "x" * 24,
    '"GITHUB_PERSONAL_ACCESS_TOKEN": "<YOUR_TOKEN>"',
    "OPENAI_API_KEY=op://Engineering/OpenAI/credential",
    "see sk-learn docs and the xai-sdk package for pplx-style search",
    'MODEL = "claude-sonnet-4-5-20250929"',
    "fw_version = 'fw_updateFirmwareVersion'",  # no fireworks anywhere, no digits
    "BSA" + fakekeys.chunk(27, 87),  # the Brave prefix without Brave
    "DEEPSEEK_MODEL=deepseek-chat",
    "sk-" + fakekeys.hex_key(32, 88),  # DeepSeek's shape without DeepSeek
    "# shadowmap:allow\n",
    "GITHUB_TOKEN=" + fakekeys.github_classic(89) + "  # shadowmap:allow",
    "HF_TOKEN=" + fakekeys.huggingface(90) + "  # pragma: allowlist secret",
    "# pragma: allowlist nextline secret\nGROQ_API_KEY=" + fakekeys.groq(91),
    '"integrity": "sha512-' + fakekeys.chunk(86, 92, fakekeys.ALNUM + "+/") + '=="',
    '"image/png": "iVBORw0KGgo'
    + fakekeys.chunk(400, 93, fakekeys.ALNUM + "+/")
    + "AIza"
    + fakekeys.chunk(35, 94)
    + fakekeys.chunk(400, 95, fakekeys.ALNUM + "+/")
    + '"',
    "model: xai-" + "-".join(["grok", "beta", "vision", "preview"] * 5),  # words, not a key
    "$ wandb login --relogin",
    "sk-lf-" + "0" * 8 + "-0000-0000-0000-" + "0" * 12,
    "api_key: '{{ .Values.openai.apiKey }}'",
    "openai_api_key: $OPENAI_API_KEY",
    "anthropic_api_key: '%ANTHROPIC_API_KEY%'",
]


def _with_companion(kind: str, line: str) -> str:
    return "x = 1\n" + line + "\n" + COMPANIONS.get(kind, "") + "\n"


@pytest.mark.parametrize("kind, line", SHOULD_FLAG, ids=[k for k, _ in SHOULD_FLAG])
def test_each_kind_is_flagged(kind, line):
    matches = list(SecretEngine(builtin_pack()).find(_with_companion(kind, line())))
    assert [m.signature.id for m in matches] == [kind]
    assert matches[0].line == 2


@pytest.mark.parametrize("line", SHOULD_NOT_FLAG)
def test_look_alikes_are_not_flagged(line):
    assert list(SecretEngine(builtin_pack()).find(line)) == []


def test_every_secret_kind_has_a_should_flag_row():
    assert {s.id for s in builtin_pack().secrets} - {k for k, _ in SHOULD_FLAG} <= {
        "anthropic-admin-key",
        "anthropic-oauth-token",
        "gemini-api-key",
        "huggingface-org-token",
    }


def test_signature_docs_are_generated_from_the_data():
    from shadowmap.signatures import docs

    committed = (Path(__file__).parents[2] / "docs" / "signatures.md").read_text(encoding="utf-8")
    assert committed == docs.render(), (
        "run: python -m shadowmap.signatures.docs > docs/signatures.md"
    )


# Code each cookie library's pattern is meant to find; built from pieces so that a scan of
# this repository sees no cookie-reading code (tests/test_self_scan.py).
COOKIE_CODE = {
    "browser-" + "cookie3": ["import browser" + "_cookie3"],
    "pycookie" + "cheat": ["from pycookie" + "cheat import chrome_cookies"],
    "rookie" + "py": ["import rook" + "iepy", "import " + "rookie", "npm i @rookie" + "-rs/api"],
    "yt-dlp-cookies": [
        "yt-dlp --cookies" + "-from-browser chrome",
        "{'cookiesfrom" + "browser': 1}",
    ],
    "read-browser" + "-cookies": [
        "require('chrome-cookies" + "-secure')",
        "read-browser" + "-cookies",
    ],
    "cdp-connect": [
        "p.chromium.connect_over" + "_cdp(url)",
        "await chromium.connectOver" + "CDP(url)",
        "puppeteer." + "connect({ browserURL: u })",
    ],
}


def test_every_cookie_library_match_holds_one_of_its_keywords():
    """The keywords gate the pattern (agent/detectors/browser_session.text_hits): code the
    pattern finds must hold one of them, or the gate would hide it."""
    libraries = builtin_pack().browser_session.cookie_libraries

    assert {lib.id for lib in libraries} == set(COOKIE_CODE)
    for lib in libraries:
        assert all(k == k.lower() for k in lib.keywords), lib.id
        for code in COOKIE_CODE[lib.id]:
            assert lib.pattern.search(code), (lib.id, code)
            assert any(k in code.lower() for k in lib.keywords), (lib.id, code)
