"""Fake credentials of real shapes, assembled at test time so no source file holds one."""

from __future__ import annotations

import random
import string

ALNUM = string.ascii_letters + string.digits


def chunk(length: int, seed: int, alphabet: str = ALNUM) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(length))


def github_classic(seed: int = 1) -> str:
    return "gh" + "p_" + chunk(36, seed)


def github_fine_grained(seed: int = 2) -> str:
    return "github" + "_pat_" + chunk(22, seed) + "_" + chunk(59, seed + 100)


def anthropic(seed: int = 3) -> str:
    return "sk-" + "ant-" + "api03-" + chunk(93, seed, ALNUM + "-_") + "A" + "A"


def openai_project(seed: int = 4) -> str:
    return "sk-" + "proj-" + chunk(58, seed) + "T3Blbk" + "FJ" + chunk(58, seed + 100)


def openai_legacy(seed: int = 5) -> str:
    return "s" + "k-" + chunk(20, seed) + "T3Blbk" + "FJ" + chunk(20, seed + 100)


def huggingface(seed: int = 6) -> str:
    return "h" + "f_" + chunk(34, seed)


def google(seed: int = 7) -> str:
    return "AI" + "za" + chunk(35, seed, ALNUM + "-_")
