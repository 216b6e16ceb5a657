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


HEX = "0123456789abcdef"
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_BASE32 = string.ascii_uppercase + "234567"


def openai_svcacct(seed: int = 8) -> str:
    return "sk-" + "svcacct-" + chunk(74, seed) + "T3Blbk" + "FJ" + chunk(74, seed + 100)


def openai_admin(seed: int = 9) -> str:
    return "sk-" + "admin-" + chunk(58, seed) + "T3Blbk" + "FJ" + chunk(58, seed + 100)


def openai_none(seed: int = 10) -> str:
    return "sk-" + "None-" + chunk(48, seed)


def anthropic_admin(seed: int = 11) -> str:
    return "sk-" + "ant-" + "admin01-" + chunk(93, seed, ALNUM + "-_") + "AA"


def anthropic_oauth(seed: int = 12) -> str:
    return "sk-" + "ant-" + "oat01-" + chunk(93, seed, ALNUM + "-_") + "AA"


def gemini_aq(seed: int = 13) -> str:
    return "AQ." + "Ab8RN6" + chunk(44, seed, ALNUM + "-_")


def google_oauth_secret(seed: int = 14) -> str:
    return "GOC" + "SPX-" + chunk(28, seed, ALNUM + "-_")


def huggingface_org(seed: int = 15) -> str:
    return "api" + "_org_" + chunk(34, seed)


def aws_access_key_id(seed: int = 16) -> str:
    return "AK" + "IA" + chunk(16, seed, UPPER_BASE32)


def aws_secret(seed: int = 17) -> str:
    return chunk(40, seed, ALNUM + "/+")


def bedrock_long(seed: int = 18) -> str:
    return "AB" + "SK" + "QmVkcm9ja0FQSUtleS" + chunk(110, seed, ALNUM + "+/") + "="


def bedrock_short(seed: int = 19) -> str:
    return "bedrock-" + "api-key-" + "YmVkcm9jay5hbWF6b25hd3MuY29t" + chunk(300, seed, ALNUM + "+/")


def groq(seed: int = 20) -> str:
    return "gs" + "k_" + chunk(52, seed)


def xai(seed: int = 21) -> str:
    return "xa" + "i-" + chunk(80, seed)


def mistral(seed: int = 22) -> str:
    return chunk(32, seed)


def cohere(seed: int = 23) -> str:
    return chunk(40, seed)


def deepseek(seed: int = 24) -> str:
    return "s" + "k-" + chunk(32, seed, HEX)


def openrouter(seed: int = 25) -> str:
    return "sk-" + "or-v1-" + chunk(64, seed, HEX)


def replicate(seed: int = 26) -> str:
    return "r8" + "_" + chunk(37, seed)


def perplexity(seed: int = 27) -> str:
    return "pp" + "lx-" + chunk(48, seed)


def fireworks(seed: int = 28) -> str:
    return "f" + "w_" + chunk(24, seed)


def together(seed: int = 29) -> str:
    return "tgp" + "_v1_" + chunk(43, seed, ALNUM + "-_")


def hex_key(length: int, seed: int) -> str:
    return chunk(length, seed, HEX)


def cerebras(seed: int = 30) -> str:
    return "cs" + "k-" + chunk(48, seed, LOWER_ALNUM)


def nvidia(seed: int = 31) -> str:
    return "nv" + "api-" + chunk(64, seed, ALNUM + "-_")


def vercel_gateway(seed: int = 32) -> str:
    return "vc" + "k_" + chunk(56, seed)


def llamacloud(seed: int = 33) -> str:
    return "ll" + "x-" + chunk(48, seed)


def langsmith(seed: int = 34) -> str:
    return "lsv2" + "_pt_" + chunk(32, seed, HEX) + "_" + chunk(10, seed + 1, HEX)


def uuid_like(seed: int) -> str:
    parts = [chunk(n, seed + n, HEX) for n in (8, 4, 4, 4, 12)]
    return "-".join(parts)


def langfuse_secret(seed: int = 35) -> str:
    return "sk-" + "lf-" + uuid_like(seed)


def langfuse_public(seed: int = 36) -> str:
    return "pk-" + "lf-" + uuid_like(seed)


def pinecone(seed: int = 37) -> str:
    return "pc" + "sk_" + chunk(5, seed) + "_" + chunk(63, seed + 1)


def wandb_v1(seed: int = 38) -> str:
    return "wandb" + "_v1_" + chunk(77, seed)


def elevenlabs(seed: int = 39) -> str:
    return "s" + "k_" + chunk(48, seed, HEX)


def tavily(seed: int = 40) -> str:
    return "tv" + "ly-dev-" + chunk(32, seed)


def brave(seed: int = 41) -> str:
    return "BS" + "A" + chunk(27, seed)


def slack_bot(seed: int = 42) -> str:
    digits = string.digits
    return (
        "xo"
        + "xb-"
        + chunk(12, seed, digits)
        + "-"
        + chunk(13, seed + 1, digits)
        + "-"
        + chunk(24, seed)
    )


def slack_user(seed: int = 43) -> str:
    d = string.digits
    ids = "-".join(chunk(12, seed + i, d) for i in range(3))
    return "xo" + "xp-" + ids + "-" + chunk(32, seed, HEX)


def slack_session(seed: int = 44) -> str:
    d = string.digits
    ids = "-".join(chunk(12, seed + i, d) for i in range(3))
    return "xo" + "xc-" + ids + "-" + chunk(64, seed, HEX)


def slack_cookie(seed: int = 45) -> str:
    return "xo" + "xd-" + chunk(150, seed, ALNUM + "%/+")


def slack_app(seed: int = 46) -> str:
    return (
        "xa"
        + "pp-1-"
        + chunk(11, seed, string.ascii_uppercase + string.digits)
        + "-"
        + chunk(13, seed, string.digits)
        + "-"
        + chunk(64, seed, HEX)
    )


def slack_webhook(seed: int = 47) -> str:
    return (
        "https://hooks."
        + "slack.com/services/T"
        + chunk(8, seed, UPPER_BASE32)
        + "/B"
        + chunk(10, seed, UPPER_BASE32)
        + "/"
        + chunk(24, seed)
    )


def notion(seed: int = 48) -> str:
    return "nt" + "n_" + chunk(11, seed, string.digits) + chunk(35, seed)


def notion_legacy(seed: int = 49) -> str:
    return "sec" + "ret_" + chunk(43, seed)


def linear(seed: int = 50) -> str:
    return "lin" + "_api_" + chunk(40, seed)


def atlassian(seed: int = 51) -> str:
    return (
        "ATA"
        + "TT3"
        + chunk(177, seed, ALNUM + "_-")
        + "="
        + chunk(8, seed + 1, string.ascii_uppercase + string.digits)
    )


def stripe_live(seed: int = 52) -> str:
    return "rk" + "_live_" + chunk(99, seed)


def stripe_test(seed: int = 53) -> str:
    return "sk" + "_test_" + chunk(99, seed)


def stripe_webhook(seed: int = 54) -> str:
    return "wh" + "sec_" + chunk(32, seed)


def supabase_pat(seed: int = 55) -> str:
    return "sb" + "p_" + chunk(40, seed, HEX)


def supabase_secret(seed: int = 56) -> str:
    return "sb_" + "secret_" + chunk(31, seed)


def jwt(seed: int = 57) -> str:
    b64url = ALNUM + "-_"
    return (
        "ey"
        + "J"
        + chunk(30, seed, b64url)
        + ".ey"
        + "J"
        + chunk(90, seed + 1, b64url)
        + "."
        + chunk(43, seed + 2, b64url)
    )


def onepassword_service(seed: int = 58) -> str:
    return "op" + "s_eyJ" + chunk(300, seed, ALNUM + "+/")


def github_server(seed: int = 59) -> str:
    return "gh" + "s_" + chunk(36, seed)


def slack_config(seed: int = 96) -> str:
    return "xo" + "xe.xoxp-1-" + chunk(164, seed, string.ascii_uppercase + string.digits)


def slack_legacy(seed: int = 97) -> str:
    d = string.digits
    return (
        "xo"
        + "xs-"
        + chunk(10, seed, d)
        + "-"
        + chunk(10, seed + 1, d)
        + "-"
        + chunk(32, seed, HEX)
    )


def azure_openai_84(seed: int = 98) -> str:
    return chunk(84, seed)
