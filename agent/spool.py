"""The on-disk spool: reports wait here, exactly as they will be sent, until acknowledged.

SQLite in WAL mode, so a kill at any moment loses nothing committed. Holds only reports
that were already redacted; never a raw value.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SPOOL_FILE = "spool.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY,
    queued_at REAL NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
)
"""


@dataclass(frozen=True)
class Spooled:
    report_id: str
    body: bytes
    attempts: int


class Spool:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / SPOOL_FILE
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
        self.path.chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def put(self, report_id: str, body: bytes) -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR IGNORE INTO reports (report_id, queued_at, body) VALUES (?, ?, ?)",
                (report_id, time.time(), body),
            )

    def pending(self) -> list[Spooled]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT report_id, body, attempts FROM reports ORDER BY queued_at, report_id"
            ).fetchall()
        return [Spooled(r[0], bytes(r[1]), r[2]) for r in rows]

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
