"""Values kept in one process under a hashable key, the most recently used first to stay: the one
small cache that counts, visitors' pages, rankings, explanations and search vectors share."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable


class Kept:
    """At most ``size`` values by key, the least recently used dropped first, each for at most
    ``seconds`` (``math.inf``: until dropped); safe to share between a process's threads. A value
    of None cannot be told from a miss: keep something else."""

    def __init__(self, size: int, seconds: float = math.inf):
        self.size, self.seconds = size, seconds
        self._kept: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        """The value kept under ``key`` (now the most recently used), or None (never kept, dropped,
        or older than ``seconds``)."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or time.monotonic() - kept[0] >= self.seconds:
                return None
            self._kept.move_to_end(key)
            return kept[1]

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._kept[key] = (time.monotonic(), value)
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
