"""The operating system's file notifications for every watched project folder at once.

One watchfiles `RustNotify` (Rust's notify crate: inotify on Linux) covers all watched
folders: one inotify instance whatever the number of projects (the kernel allows a user 128),
and one thread waiting on it. watchfiles' wait is a loop that sleeps `STEP_MS` between looks
at the change set, so that thread wakes five times a second while anything is watched, and
never when nothing is; a burst of changes is handed over as one batch once no new change has
come for one step, or after `DEBOUNCE_MS` at most.

The set of folders is fixed when a `RustNotify` is made, so a change of the set makes a new
one. It collects changes from the moment it exists; the old one is then drained and closed,
so no change is lost in between. watchfiles' stop event is used only to stop for good: it
drops whatever changes are still pending.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchfiles._rust_notify import RustNotify


logger = logging.getLogger(__name__)

# Changes are gathered until none has come for one step, or for this long at most.
DEBOUNCE_MS = 1000
# How often the waiting thread looks at the change set: a change is handed over 0.2-0.4 s
# after it happened, for 20-40 ms of CPU per minute of idle watching (benchmarks).
STEP_MS = 200
# How long one wait lasts when nothing changes, before a new set of folders is taken up.
ADOPT_WITHIN_MS = 1000
# Draining a replaced instance: its pending changes, grouped over at most this long.
DRAIN_MS = 20

ChangeBatch = set[str]


def _open(roots: Sequence[str]) -> RustNotify:
    # Imported at the first watch: a start that follows no folder never loads it.
    from watchfiles._rust_notify import RustNotify

    # force_polling False: notifications or an error, never watchfiles' own polling (the
    # watcher scans those folders itself, at its own pace). Errors are not ignored: a folder
    # that cannot be watched whole is scanned instead.
    return RustNotify(list(roots), False, False, 0, True, False)


def _reason(exc: Exception) -> str:
    # notify appends the paths it was given (` about ["/x"]`): the log line names them anyway.
    return str(exc).split(" about [", 1)[0] or type(exc).__name__


def open_watches(roots: Sequence[str]) -> tuple[RustNotify | None, dict[str, str]]:
    """Watches on `roots` (in priority order), and the roots that could not be watched, each
    with the reason: one that fails on its own (unreadable inside, gone, notifications
    unavailable) and, when they fail only together (the kernel's watch limit), the last ones."""
    if not roots:
        return None, {}
    try:
        return _open(roots), {}
    except (OSError, RuntimeError) as exc:
        together = _reason(exc)
    failed: dict[str, str] = {}
    usable = []
    for root in roots:
        try:
            _open([root]).close()
            usable.append(root)
        except (OSError, RuntimeError) as exc:
            failed[root] = _reason(exc)
    fits, too_many = 0, len(usable) + 1  # the longest prefix that can be watched at once
    while too_many - fits > 1:
        middle = (fits + too_many) // 2
        try:
            _open(usable[:middle]).close()
            fits = middle
        except (OSError, RuntimeError) as exc:
            together, too_many = _reason(exc), middle
    failed.update(dict.fromkeys(usable[fits:], together))
    if not fits:
        return None, failed
    try:
        return _open(usable[:fits]), failed
    except (OSError, RuntimeError) as exc:  # the folders changed meanwhile
        failed.update(dict.fromkeys(usable[:fits], _reason(exc)))
        return None, failed


class FolderNotifications:
    """The thread that waits for notifications and hands each batch of changed paths to
    `on_changes`; `on_failure` hears that notifications broke (changes may have been lost,
    nothing is watched until the next `replace`). Both are called on this thread."""

    def __init__(
        self,
        on_changes: Callable[[ChangeBatch], None],
        on_failure: Callable[[str], None],
    ) -> None:
        self._on_changes = on_changes
        self._on_failure = on_failure
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._current: RustNotify | None = None  # only this thread uses it
        self._next: list[RustNotify | None] = []  # at most one: the set to take up
        self._thread = threading.Thread(target=self._run, name="folder-notifications", daemon=True)

    def start(self) -> None:
        """Start the waiting thread (it waits on nothing until the first `replace`)."""
        self._thread.start()

    def replace(self, roots: Sequence[str]) -> dict[str, str]:
        """Watch exactly `roots` from now on, and say which cannot be watched (and why).

        Every change after this returns is reported; changes the previous set saw before are
        reported too.
        """
        notify, failed = open_watches(roots)
        with self._lock:
            superseded = self._next
            self._next = [notify]
            self._lock.notify_all()
        for pending in superseded:  # made by an earlier call, never taken up: drained here
            self._drain(pending)
        return failed

    def stop(self, timeout: float) -> None:
        """Stop waiting (within one step) and close every watch."""
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        with self._lock:
            pending, self._next = self._next, []
        for notify in pending:
            if notify is not None:
                notify.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                if self._next:
                    replaced, self._current = self._current, self._next.pop()
                elif self._current is None:
                    self._lock.wait()
                    continue
                else:
                    replaced = None
            self._drain(replaced)
            if self._current is not None:
                self._wait_once(self._current)
        if self._current is not None:
            self._current.close()

    def _wait_once(self, notify: RustNotify) -> None:
        try:
            changes = notify.watch(DEBOUNCE_MS, STEP_MS, ADOPT_WITHIN_MS, self._stopping)
        except (OSError, RuntimeError) as exc:
            # watchfiles keeps reporting the error: this instance is done for.
            notify.close()
            self._current = None
            self._on_failure(_reason(exc))
            return
        if isinstance(changes, set):
            self._deliver(changes)

    def _drain(self, notify: RustNotify | None) -> None:
        if notify is None:
            return
        try:
            changes = notify.watch(DRAIN_MS, 1, 1, None)
        except (OSError, RuntimeError) as exc:
            notify.close()
            self._on_failure(_reason(exc))
            return
        notify.close()
        if isinstance(changes, set):
            self._deliver(changes)

    def _deliver(self, changes: set[tuple[int, str]]) -> None:
        if changes:
            self._on_changes({path for _change, path in changes})
