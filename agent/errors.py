"""The one exception tree of shadowmap; only ``cli.main`` catches it.

    ShadowmapError                 base; carries a hint (the next step) and an exit code
    ├── UsageError                 bad options or arguments                        exit 2
    ├── ConfigError                a config, policy or state file is unusable      exit 2
    ├── SignatureError             the signature pack fails its schema             exit 3
    ├── ScanError                  a scan could not run (no such repo, no git)     exit 3
    └── CollectorError             the collector could not be reached or refused   exit 3
        └── EnrollmentError        the enrol secret was refused or is missing      exit 3

A problem with one file or one entry is never an exception: it becomes a
``ScanWarning`` in the report and the scan goes on.
"""

from __future__ import annotations

# Exit codes, as README's table documents them.
EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_COULD_NOT_SCAN = 3


class ShadowmapError(Exception):
    """Base of every error shadowmap reports to a user."""

    exit_code = EXIT_COULD_NOT_SCAN

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ShadowmapError):
    exit_code = EXIT_USAGE


class ConfigError(ShadowmapError):
    exit_code = EXIT_USAGE


class SignatureError(ShadowmapError):
    exit_code = EXIT_COULD_NOT_SCAN


class ScanError(ShadowmapError):
    exit_code = EXIT_COULD_NOT_SCAN


class CollectorError(ShadowmapError):
    exit_code = EXIT_COULD_NOT_SCAN


class EnrollmentError(CollectorError):
    pass
