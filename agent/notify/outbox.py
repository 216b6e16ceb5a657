"""The daemon's notice outbox: one notice per finding ever, a rate per hour, quiet hours.

SQLite in the state folder, so a restart neither repeats a notice nor forgets a waiting one.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from shadowmap.agent.notify.interface import Notice, NoticeRules

logger = logging.getLogger(__name__)

OUTBOX_FILE = "notices.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS notices (
    finding_id TEXT NOT NULL,
    user TEXT NOT NULL,
    body TEXT NOT NULL,
    queued_at REAL NOT NULL,
    shown_at REAL,
    PRIMARY KEY (finding_id, user)
)
"""
HOUR = 3600.0


def in_quiet_hours(rules: NoticeRules, now: datetime) -> bool:
    """Local time inside [start, end); a span may cross midnight (22:00 to 07:00)."""
    if not rules.quiet_start or not rules.quiet_end:
        return False
    minute = now.hour * 60 + now.minute
    start, end = (int(t[:2]) * 60 + int(t[3:]) for t in (rules.quiet_start, rules.quiet_end))
    return start <= minute < end if start <= end else minute >= start or minute < end


def quiet_ends(rules: NoticeRules, now: datetime) -> datetime:
    quiet_end: str = rules.quiet_end  # type: ignore[assignment]
    end = now.replace(hour=int(quiet_end[:2]), minute=int(quiet_end[3:]), second=0)
    return end if end > now else end + timedelta(days=1)


class Outbox:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / OUTBOX_FILE
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
        self.path.chmod(0o600)

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def add(self, notices: Iterable[Notice]) -> int:
        """Queue the notices not seen before; how many were new."""
        with closing(self._db()) as db, db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO notices (finding_id, user, body, queued_at)"
                " VALUES (?, ?, ?, ?)",
                [(n.finding_id, n.user, n.to_json(), time.time()) for n in notices],
            )
            return db.total_changes - before

    def shown(self, finding_id: str, user: str) -> None:
        with closing(self._db()) as db, db:
            db.execute(
                "UPDATE notices SET shown_at = ? WHERE finding_id = ? AND user = ?",
                (time.time(), finding_id, user),
            )

    def _shown_last_hour(self, db: sqlite3.Connection, user: str, now: float) -> list[float]:
        rows = db.execute(
            "SELECT shown_at FROM notices WHERE user = ? AND shown_at > ? ORDER BY shown_at",
            (user, now - HOUR),
        ).fetchall()
        return [r[0] for r in rows]

    def due(self, user: str, rules: NoticeRules, now: float | None = None) -> list[Notice]:
        """What may be shown to ``user`` now under the rules, oldest first."""
        now = time.time() if now is None else now
        if not rules.enabled or in_quiet_hours(rules, datetime.fromtimestamp(now)):
            return []
        with closing(self._db()) as db:
            room = rules.max_per_hour - len(self._shown_last_hour(db, user, now))
            if room <= 0:
                return []
            rows = db.execute(
                "SELECT body FROM notices WHERE user = ? AND shown_at IS NULL"
                " ORDER BY queued_at LIMIT ?",
                (user, room),
            ).fetchall()
        return [Notice.from_dict(json.loads(r[0])) for r in rows]

    def next_chance(self, user: str, rules: NoticeRules, now: float | None = None) -> float | None:
        """When a waiting notice for ``user`` may next go (epoch seconds), if one waits."""
        now = time.time() if now is None else now
        with closing(self._db()) as db:
            waiting = db.execute(
                "SELECT 1 FROM notices WHERE user = ? AND shown_at IS NULL LIMIT 1", (user,)
            ).fetchone()
            shown = self._shown_last_hour(db, user, now)
        if not waiting or not rules.enabled:
            return None
        local = datetime.fromtimestamp(now)
        if in_quiet_hours(rules, local):
            return quiet_ends(rules, local).timestamp()
        if len(shown) >= rules.max_per_hour:
            return shown[len(shown) - rules.max_per_hour] + HOUR if rules.max_per_hour else None
        return now
