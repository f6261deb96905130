"""State this process keeps in memory for each database it writes: one object per engine
(its data versions, db/versions.py; its waiting writers, db/lock_sharing.py)."""

import threading
import weakref
from collections.abc import Callable

from sqlalchemy import Engine


class PerEngine[T]:
    """One `factory()` object per engine, made on first use and gone with the engine."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._objects: weakref.WeakKeyDictionary[Engine, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def of(self, engine: Engine) -> T:
        """The object of `engine`."""
        found = self._objects.get(engine)
        if found is None:
            with self._lock:
                found = self._objects.setdefault(engine, self._factory())
        return found
