"""detect-secrets plugins for every shadowmap kind, for detect-secrets users:
`detect-secrets scan --plugin <path of this file>`. The classes are made when
detect-secrets asks for them (PEP 562 module __getattr__), never at import.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from shadowmap.agent.secret_engine import plugin_for
from shadowmap.signatures import builtin_pack

logger = logging.getLogger(__name__)

# detect-secrets finds a plugin file's classes by name (detect_secrets/core/plugins/util.py,
# get_plugins_from_file); each name is this prefix and the kind id in CamelCase.
CLASS_PREFIX = "Shadowmap"


def class_name(kind: str) -> str:
    return CLASS_PREFIX + "".join(part.capitalize() for part in kind.split("-")) + "Detector"


@cache
def plugin_classes() -> dict[str, type]:
    """One RegexBasedDetector subclass per signature, by class name."""
    classes: dict[str, type] = {}
    for signature in builtin_pack().secrets:
        cls = type(plugin_for(signature))
        cls.__name__ = cls.__qualname__ = class_name(signature.id)
        cls.__module__ = __name__
        classes[cls.__name__] = cls
    return classes


def __getattr__(name: str) -> Any:
    if name.startswith(CLASS_PREFIX) and name in plugin_classes():
        return plugin_classes()[name]
    raise AttributeError(name)


def __dir__() -> list[str]:
    return sorted([*globals(), *plugin_classes()])
