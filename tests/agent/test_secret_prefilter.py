"""The keyword prefilter: every backend gives the same answer; the engine works on each."""

from __future__ import annotations

import importlib.util

import pytest

from shadowmap.agent.prefilter import BACKENDS, Prefilter

KEYWORDS = ["sk-ant-api03-", "hf_", "t3blbkfj", "op://", "mistral"]
ROWS = [
    (b"", set()),
    (b"nothing to see", set()),
    (b"MISTRAL_API_KEY=abc", {4}),
    (b"x = 'HF_TOKEN' + T3BLBKFJ", {1, 2}),
    (b"op://vault/item/field and hf_ and hf_ again", {1, 3}),
    ("caf\u00e9 sk-ant-api03-".encode(), {0}),
    (b"\x00\xff binary Mistral", {4}),
]


def installed(backend: str) -> bool:
    module = {"hyperscan": "hyperscan", "ahocorasick": "ahocorasick"}.get(backend)
    return module is None or importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("data, expected", ROWS)
def test_every_backend_finds_the_same_keywords(backend, data, expected):
    if not installed(backend):
        pytest.skip(f"{backend} is not installed here")
    assert Prefilter(KEYWORDS, backend).found(data) == expected


def test_the_fastest_installed_backend_is_chosen():
    first = next(b for b in BACKENDS if installed(b))
    assert Prefilter(KEYWORDS).backend == first
