"""The kinds as detect-secrets plugins: loaded by detect-secrets itself through --plugin."""

from __future__ import annotations

import json
import subprocess
import sys

import shadowmap.agent.secret_plugins as plugins
from shadowmap.signatures import builtin_pack
from tests import fakekeys

# detect-secrets' own plugins that would also fire on these lines.
ITS_OWN = ("Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector")


def test_every_kind_is_a_plugin_with_its_own_secret_type():
    classes = plugins.plugin_classes()
    assert len(classes) == len(builtin_pack().secrets)
    assert len({cls.secret_type for cls in classes.values()}) == len(classes)
    assert set(classes) <= set(dir(plugins))


def test_detect_secrets_loads_and_runs_them(tmp_path):
    (tmp_path / ".env").write_text(
        f"MISTRAL_API_KEY={fakekeys.mistral()}\nGROQ_API_KEY={fakekeys.groq()}\n"
    )
    disabled = [arg for name in ITS_OWN for arg in ("--disable-plugin", name)]
    run = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "--all-files",
         "--plugin", plugins.__file__, *disabled],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = sorted(r["type"] for r in json.loads(run.stdout)["results"][".env"])
    assert found == ["Groq API key", "Mistral AI API key"]
