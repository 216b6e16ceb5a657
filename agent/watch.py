"""The daemon's file watcher: OS file events (watchdog) on the folders that hold AI configs.

A change that matches a watched pattern marks its source; the source is rescanned once the
events have been quiet for the debounce. Never polls: with no events it costs nothing.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

logger = logging.getLogger(__name__)

GLOB_CHARS = frozenset("*?[")
# Events that can change what a file says; opens and reads (our own scans) are left out.
WATCHED_EVENTS = ("created", "deleted", "modified", "moved", "closed")
# The inotify mask asked for (watchdog's event_filter): creations, deletions, moves and
# close-after-write. Without it every open of /etc/hosts by any process wakes the daemon,
# and IN_MODIFY fires on each write(2), where IN_CLOSE_WRITE fires once per save.
KERNEL_EVENTS = ("FileCreatedEvent", "DirCreatedEvent", "FileDeletedEvent", "DirDeletedEvent",
                 "FileMovedEvent", "DirMovedEvent", "FileClosedEvent")  # fmt: skip
# A burst of events never holds a rescan back longer than this many debounce periods.
MAX_DEBOUNCE_FACTOR = 6
# watchdog's observer thread wakes this often even with no events (its default is 1 s,
# measured at ~0.4% of a core here); events still arrive at once, this only bounds stop().
OBSERVER_TIMEOUT = 600.0
# stop() waits this long for watchdog's threads (daemon threads: the process exits anyway).
STOP_WAIT = 1.0


@dataclass(frozen=True)
class Target:
    pattern: str
    source: str
    base: str  # the longest folder prefix without glob characters
    recursive: bool  # a glob below the base reaches more than one level


def make_target(pattern: str, source: str) -> Target:
    parts = PurePath(pattern).parts
    first_glob = next((i for i, p in enumerate(parts) if GLOB_CHARS & set(p)), len(parts))
    if first_glob == len(parts):  # a concrete path: watch its folder
        return Target(pattern, source, str(PurePath(*parts[:-1])), False)
    return Target(pattern, source, str(PurePath(*parts[:first_glob])), len(parts) - first_glob > 1)


def _existing_ancestor(path: str) -> str:
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def watch_dirs(targets: list[Target], homes: list[str]) -> dict[str, bool]:
    """Folder -> recursive. A missing base is watched at its nearest existing ancestor (to
    see it appear); a home, the root and their ancestors are never watched recursively."""
    protected = {"/", *homes}
    protected |= {str(a) for h in homes for a in PurePath(h).parents}
    folders: dict[str, bool] = {}
    for target in targets:
        folder = _existing_ancestor(target.base)
        recursive = target.recursive and folder == target.base and folder not in protected
        folders[folder] = folders.get(folder, False) or recursive
    return folders


def matches(target: Target, path: str) -> bool:
    """The event at ``path`` may change the target: a match, or a step towards its base."""
    if fnmatch.fnmatchcase(path, target.pattern) or path == target.pattern:
        return True
    return target.base == path or target.base.startswith(path.rstrip(os.sep) + os.sep)


class Watcher:
    """Schedules watchdog watches and turns events into debounced per-source rescans."""

    def __init__(self, debounce: float, min_gap: float, wake: threading.Event) -> None:
        import watchdog.events
        from watchdog.observers import Observer

        self.debounce, self.min_gap, self.wake = debounce, min_gap, wake
        self.targets: list[Target] = []
        self.observer: Any = Observer(timeout=OBSERVER_TIMEOUT)
        self.kinds = [getattr(watchdog.events, name) for name in KERNEL_EVENTS]
        self.watches: dict[tuple[str, bool], Any] = {}
        self.lock = threading.Lock()
        self.first_event: dict[str, float] = {}
        self.last_event: dict[str, float] = {}
        self.last_scan: dict[str, float] = {}
        self.replan = False
        self.observer.start()

    def apply(self, plan: list[dict[str, str]], homes: list[str]) -> None:
        """Watch what the latest plan names; drop watches it no longer needs."""
        targets = [make_target(t["pattern"], t["source"]) for t in plan]
        wanted = set(watch_dirs(targets, homes).items())
        handler = _Handler(self)
        for key in set(self.watches) - wanted:
            self.observer.unschedule(self.watches.pop(key))
        for folder, recursive in sorted(wanted - set(self.watches)):
            try:
                self.watches[(folder, recursive)] = self.observer.schedule(
                    handler, folder, recursive=recursive, event_filter=self.kinds
                )
            except OSError as exc:  # inotify limits, permissions: scheduled scans still run
                logger.warning("not watching %s: %s", folder, exc.strerror or exc)
        with self.lock:
            self.targets = targets
        logger.info("watching %d folders for %d patterns", len(self.watches), len(targets))

    def event(self, path: str) -> None:
        now = time.monotonic()
        with self.lock:
            hit = [t for t in self.targets if matches(t, path)]
            for target in hit:
                self.first_event.setdefault(target.source, now)
                self.last_event[target.source] = now
                self.replan |= path == target.base or target.base.startswith(path + os.sep)
        if hit:
            logger.debug("change at %s: rescan %s", path, sorted({t.source for t in hit}))
            self.wake.set()

    def _ready_at(self, source: str) -> float:
        quiet = self.last_event[source] + self.debounce
        capped = self.first_event[source] + self.debounce * MAX_DEBOUNCE_FACTOR
        return max(min(quiet, capped), self.last_scan.get(source, -1e18) + self.min_gap)

    def next_deadline(self) -> float | None:
        with self.lock:
            return min((self._ready_at(s) for s in self.last_event), default=None)

    def take_due(self, now: float) -> tuple[set[str], bool]:
        """Sources to rescan now, and whether the plan should be made again."""
        with self.lock:
            due = {s for s in self.last_event if self._ready_at(s) <= now}
            for source in due:
                del self.last_event[source], self.first_event[source]
                self.last_scan[source] = now
            replan, self.replan = self.replan and bool(due), self.replan and not due
        return due, replan

    def scanned_all(self, now: float) -> None:
        with self.lock:
            for source in {t.source for t in self.targets}:
                self.last_scan[source] = now

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=STOP_WAIT)


class _Handler:
    """watchdog's handler protocol (``dispatch``) without importing its base class."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def dispatch(self, event: Any) -> None:
        if event.event_type not in WATCHED_EVENTS:
            return
        if event.is_directory and event.event_type == "modified":
            return  # a folder's own mtime: its children's events say what changed
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if path:
                self.watcher.event(os.fsdecode(path))
