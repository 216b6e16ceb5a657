"""``collector import-grants``: read an IdP's export files or sweep its API, then store it.

The database is opened (and migrated) the way ``serve`` opens it; the credential of a
live sweep comes from the environment or a file and is never logged. ``import_uploaded``
does the same for files posted to ``/api/v1/grants/import`` by an admin.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.orm import Session

from shadowmap.agent.errors import UsageError
from shadowmap.server import people
from shadowmap.server.db import open_database, session_factory
from shadowmap.server.grant_store import ImportSummary, store_batch
from shadowmap.server.idp import connector_for
from shadowmap.server.idp.http import LiveClient, load_credential
from shadowmap.server.idp.interface import (
    DEFAULT_LOOKBACK_DAYS,
    GrantBatch,
    IdpError,
    IdpFileInvalid,
    Provider,
)

logger = logging.getLogger(__name__)

# Each provider's API root (developers.google.com/admin-sdk; learn.microsoft.com/graph).
# Okta has one per organisation, so --base-url is required for it.
DEFAULT_BASE_URL = {
    Provider.GOOGLE: "https://admin.googleapis.com",
    Provider.ENTRA: "https://graph.microsoft.com/v1.0",
}
# What a reader raises on a record whose shape its IdP does not document (a list where an
# object belongs, say); caught where a connector is called, never inside the readers.
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError)


@dataclass(frozen=True)
class ImportRequest:
    database_url: str
    provider: Provider
    files: tuple[Path, ...] = ()
    live: bool = False
    base_url: str | None = None
    token_file: Path | None = None
    lookback_days: int = DEFAULT_LOOKBACK_DAYS  # how far back --live reads audit logs


def run_import(
    request: ImportRequest,
    environ: Mapping[str, str],
    sleep: Callable[[float], None] | None = None,
) -> ImportSummary:
    """Read (files or live), then store in one transaction; raises ShadowmapError."""
    batch = _read(request, environ, sleep)
    engine = open_database(request.database_url)
    try:
        with session_factory(engine)() as session:
            mode = "live" if request.live else "file"
            return store_batch(session, batch, mode, people.rules_from(environ))
    finally:
        engine.dispose()


def _read(
    request: ImportRequest, environ: Mapping[str, str], sleep: Callable[[float], None] | None
) -> GrantBatch:
    if request.lookback_days < 1:
        raise UsageError(
            f"--lookback-days must be 1 or more, not {request.lookback_days}",
            hint=f"the default is {DEFAULT_LOOKBACK_DAYS} (Entra's sign-in log retention)",
        )
    connector = connector_for(request.provider, request.lookback_days)
    if request.live == bool(request.files):
        raise UsageError(
            "give either --file (one or more export files) or --live",
            hint="e.g. --file tokens.json, or --live --base-url URL",
        )
    if not request.live:
        with shapes_refused(request.provider, live=False):
            return connector.read_files(request.files)
    base_url = request.base_url or DEFAULT_BASE_URL.get(request.provider)
    if not base_url:
        raise UsageError(
            f"--live for {request.provider.value} needs --base-url",
            hint="e.g. --base-url https://example.okta.com",
        )
    credential = load_credential(request.provider, request.token_file, environ)
    client = LiveClient(
        request.provider, base_url, credential, **({"sleep": sleep} if sleep else {})
    )
    with shapes_refused(request.provider, live=True):
        return connector.sweep(client)


@contextmanager
def shapes_refused(provider: Provider, live: bool) -> Iterator[None]:
    """Turns a reader's stumble on a record of an unknown shape (a string where the IdP
    writes an object, say) into the refusal of the file or the answer, never a traceback."""
    try:
        yield
    except SHAPE_ERRORS:
        # The traceback names the reader's line, never a value; -vv shows it.
        logger.debug("a %s record of an unknown shape", provider.value, exc_info=True)
        found = f"a record of a shape the {provider.value} reader does not know"
        if live:
            raise IdpError(
                f"{provider.value} answered with {found}",
                hint="check --base-url; if it is right, report this with the -vv output",
            ) from None
        raise IdpFileInvalid(
            f"the files hold {found}",
            hint="export them again, unedited, as docs/collector.md lists them",
        ) from None


def import_uploaded(
    session: Session,
    provider: Provider,
    files: Sequence[bytes],
    rules: tuple[people.JoinRule, ...],
) -> ImportSummary:
    """Store export files posted to the API, read as ``--file`` reads them.

    Each file is written to a private temporary folder, since the connectors read paths;
    a file the connector cannot use raises IdpFileInvalid naming it "upload N", and
    nothing is stored.
    """
    if not files:
        raise IdpFileInvalid("no export file was posted", hint="post one or more `file` parts")
    with tempfile.TemporaryDirectory(prefix="shadowmap-grants-") as folder:
        paths = []
        for number, data in enumerate(files, start=1):
            path = Path(folder) / f"upload {number}"
            path.write_bytes(data)
            paths.append(path)
        try:
            with shapes_refused(provider, live=False):
                batch = connector_for(provider).read_files(paths)
        except IdpFileInvalid as exc:
            # The temporary folder means nothing to the caller; name the part instead.
            raise IdpFileInvalid(exc.message.replace(f"{folder}/", ""), hint=exc.hint) from None
    skipped = tuple(replace(s, where=s.where.replace(f"{folder}/", "")) for s in batch.skipped)
    return store_batch(session, replace(batch, skipped=skipped), "upload", rules)


def describe(summary: ImportSummary) -> str:
    """The one-paragraph result the CLI prints."""
    lines = [
        f"imported {summary.provider}: {summary.grants} grants of {summary.identities} "
        f"identities to {summary.apps} apps; {summary.revoked} no longer held; "
        f"{summary.joined_devices} devices joined to people",
        f"read: {', '.join(summary.sources) or 'nothing'}",
    ]
    lines += [f"skipped {s['where']}: {s['reason']}" for s in summary.skipped]
    return "\n".join(lines) + "\n"


def files_from(values: Sequence[str] | None) -> tuple[Path, ...]:
    return tuple(Path(v) for v in values or ())
