"""Any shape of server entry, however wrong its types, is read without an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowmap.agent.mcp.entry import EntryReader, normalize
from shadowmap.agent.mcp.parse import entries, server_maps
from shadowmap.agent.secret_engine import SecretEngine
from shadowmap.signatures import builtin_pack

KEYS = [
    "command",
    "cmd",
    "args",
    "url",
    "serverUrl",
    "httpUrl",
    "address",
    "uri",
    "type",
    "transport",
    "env",
    "environment",
    "envs",
    "env_vars",
    "headers",
    "http_headers",
    "env_http_headers",
    "bearer_token_env_var",
    "requestInit",
    "disabled",
    "enabled",
    "alwaysAllow",
    "autoApprove",
    "trust",
    "oauth",
    "name",
]
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
ENTRIES = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8)
READER = EntryReader(SecretEngine(builtin_pack()), builtin_pack().mcp_services)


@settings(max_examples=400, deadline=None)
@given(ENTRIES)
def test_any_entry_normalizes_and_reads(entry):
    spec = normalize(entry)
    evidence, inline = READER.read(spec)
    assert evidence["transport"] in {"stdio", "sse", "http", "ws", "unknown"}
    assert all(isinstance(a, str) for a in evidence["args"])


@settings(max_examples=200, deadline=None)
@given(
    VALUES,
    st.lists(
        st.sampled_from(["mcpServers", "projects/*/mcpServers", ".", "mcp/servers"]), min_size=1
    ),
)
def test_any_document_yields_server_maps_without_error(data, servers_at):
    for _trail, server_map in server_maps(data, tuple(servers_at)):
        list(entries(server_map))
