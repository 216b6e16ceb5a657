"""The on-disk spool: reports wait here, exactly as they will be sent, until acknowledged.

SQLite in WAL mode, so a kill at any moment loses nothing committed; every change is one
transaction. Capped in bytes, oldest dropped first and counted. Holds only reports that
were already redacted; never a raw value.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SPOOL_FILE = "spool.sqlite"
# What a fleet agent may keep on a laptop's disk while the collector is away; osquery
# buffers up to a million log lines (buffered_log_max) with the same oldest-first drop.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY,
    queued_at REAL NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS acked (
    source TEXT NOT NULL,
    users TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (source, users)
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""
# Columns added after the first release (`agent once`); older spools gain them on open.
ADDED_COLUMNS = {
    "size": "INTEGER NOT NULL DEFAULT 0",
    "sources": "TEXT NOT NULL DEFAULT '[]'",
    "users": "TEXT NOT NULL DEFAULT '[]'",
    "digests": "TEXT NOT NULL DEFAULT '{}'",
}


@dataclass(frozen=True)
class Spooled:
    report_id: str
    body: bytes
    attempts: int


class Spool:
    def __init__(self, state_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / SPOOL_FILE
        self.max_bytes = max_bytes
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            have = {row[1] for row in db.execute("PRAGMA table_info(reports)")}
            for name, kind in ADDED_COLUMNS.items():
                if name not in have:
                    db.execute(f"ALTER TABLE reports ADD COLUMN {name} {kind}")
        self.path.chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA synchronous=FULL")  # an acknowledged removal survives power loss
        return db

    def put(
        self,
        report_id: str,
        body: bytes,
        sources: Iterable[str] = (),
        users: Iterable[str] = (),
        digests: Mapping[str, str] | None = None,
        drops_reported: int = 0,
    ) -> int:
        """Queue a report; older waiting reports it makes stale go. Returns how many the
        cap dropped."""
        covered, people = sorted(sources), sorted(users)
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO reports (report_id, queued_at, body, size, sources, users,"
                " digests) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (report_id, time.time(), body, len(body), json.dumps(covered),
                 json.dumps(people), json.dumps(dict(digests or {}))),
            )  # fmt: skip
            _supersede(db, report_id, set(covered), people)
            dropped = _enforce_cap(db, report_id, self.max_bytes)
            _bump(db, "dropped", dropped)
            _bump(db, "dropped_reported", drops_reported)
        return dropped

    def pending(self, limit: int | None = None) -> list[Spooled]:
        query = "SELECT report_id, body, attempts FROM reports ORDER BY queued_at, report_id"
        with closing(self._connect()) as db:
            rows = db.execute(query + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        return [Spooled(r[0], bytes(r[1]), r[2]) for r in rows]

    def acknowledge(self, report_id: str) -> None:
        """The collector has the report: it leaves, and its state becomes the known state."""
        with closing(self._connect()) as db, db:
            row = db.execute(
                "SELECT users, digests FROM reports WHERE report_id = ?", (report_id,)
            ).fetchone()
            db.execute("DELETE FROM reports WHERE report_id = ?", (report_id,))
            if row is None:
                return
            for source, digest in json.loads(row[1]).items():
                db.execute(
                    "INSERT OR REPLACE INTO acked (source, users, digest) VALUES (?, ?, ?)",
                    (source, row[0], digest),
                )

    def remove(self, report_id: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM reports WHERE report_id = ?", (report_id,))

    def failed(self, report_id: str, error: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "UPDATE reports SET attempts = attempts + 1, last_error = ? WHERE report_id = ?",
                (error[:500], report_id),
            )

    def count(self) -> int:
        with closing(self._connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM reports").fetchone()[0])

    def known_digests(self, users: Iterable[str]) -> dict[str, str]:
        """Each source's latest state for these users: acknowledged, or waiting to be sent."""
        people = json.dumps(sorted(users))
        with closing(self._connect()) as db:
            acked = db.execute("SELECT source, digest FROM acked WHERE users = ?", (people,))
            known = dict(acked.fetchall())
            waiting = db.execute(
                "SELECT digests FROM reports WHERE users = ? ORDER BY queued_at, report_id",
                (people,),
            ).fetchall()
        for (digests,) in waiting:
            known.update(json.loads(digests))
        return known

    def unreported_drops(self) -> int:
        """Reports the cap dropped that no later report has told the collector about."""
        with closing(self._connect()) as db:
            values = dict(db.execute("SELECT name, value FROM counters").fetchall())
        return int(values.get("dropped", 0)) - int(values.get("dropped_reported", 0))


def _supersede(db: sqlite3.Connection, report_id: str, sources: set[str], users: list[str]) -> None:
    """A waiting report whose every source the new one covers, for the same users, is stale:
    the new one is those sources' full state. Dropping it loses nothing."""
    rows = db.execute(
        "SELECT report_id, sources FROM reports WHERE report_id != ? AND users = ?",
        (report_id, json.dumps(users)),
    ).fetchall()
    stale = [r[0] for r in rows if json.loads(r[1]) and set(json.loads(r[1])) <= sources]
    for old in stale:
        logger.info("report %s superseded by %s before it was sent", old, report_id)
        db.execute("DELETE FROM reports WHERE report_id = ?", (old,))


def _enforce_cap(db: sqlite3.Connection, keep: str, max_bytes: int) -> int:
    total = int(db.execute("SELECT COALESCE(SUM(size), 0) FROM reports").fetchone()[0])
    dropped = 0
    for report_id, size in db.execute(
        "SELECT report_id, size FROM reports WHERE report_id != ? ORDER BY queued_at, report_id",
        (keep,),
    ).fetchall():
        if total <= max_bytes:
            break
        db.execute("DELETE FROM reports WHERE report_id = ?", (report_id,))
        total -= size
        dropped += 1
    if dropped:
        logger.warning("spool over %d bytes: dropped the %d oldest reports", max_bytes, dropped)
    return dropped


def _bump(db: sqlite3.Connection, name: str, by: int) -> None:
    if by:
        db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?)"
            " ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (name, by),
        )
