"""``process-memory://``: Flask-Limiter's counters in this process, without a timer thread.

The ``memory://`` storage of ``limits`` expires its counters from a ``threading.Timer`` that it
starts again 10 ms after the last one ended, so a busy worker starts a thread about every
10 ms; on the public verification API that cost more than the lookup itself. This storage keeps
the fixed-window counters (the strategy lms uses) in a dict and drops expired ones as it goes:
a key is reset when it is read after its window ended, and at most once a second a pass removes
the keys nobody asked for again. Like ``memory://`` it is per process: use a Redis URL when
several workers or machines must share the limits.
"""

import threading
import time

from limits.storage import Storage

SWEEP_EVERY = 1.0  # seconds between passes over the keys whose window ended


class ProcessMemoryStorage(Storage):
    STORAGE_SCHEME = ["process-memory"]  # registered with ``limits`` by its metaclass

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._counts: dict[str, list] = {}  # key -> [count, end of its window]
        self._lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            self._sweep(now)
            entry = self._counts.get(key)
            if entry is None or entry[1] <= now:
                entry = self._counts[key] = [0, now + expiry]
            entry[0] += amount
            return entry[0]

    def decr(self, key: str, amount: int = 1) -> int:
        with self._lock:
            entry = self._live(key, time.time())
            if entry is None:
                return 0
            entry[0] = max(entry[0] - amount, 0)
            return entry[0]

    def get(self, key: str) -> int:
        with self._lock:
            entry = self._live(key, time.time())
            return entry[0] if entry else 0

    def get_expiry(self, key: str) -> float:
        with self._lock:
            entry = self._live(key, time.time())
            return entry[1] if entry else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
            return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def _live(self, key: str, now: float) -> list | None:
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= now:
            del self._counts[key]
            return None
        return entry

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        for key in [key for key, (_, end) in self._counts.items() if end <= now]:
            del self._counts[key]
