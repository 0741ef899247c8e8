"""Memory cache of emitted modules, safe under concurrent use.

Key: the function object (weakly held), `wrt`, the mode and which arguments are active. An
entry stays valid while the function's code, every global or closure name its derivative
depends on (helpers, constants), and the rule registry are unchanged: redefining a helper or
registering a new rule yields a fresh derivative on the next call.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .module import EmittedModule
from .rules import registry_version


@dataclass
class Entry:
    module: EmittedModule
    code: Any
    registry: int

    def is_valid(self, fn: Any) -> bool:
        if fn.__code__ is not self.code or registry_version() != self.registry:
            return False
        return all(namespace.get(name, _GONE) is value
                   for namespace, name, value in self.module.dependencies)


_GONE = object()
_entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.RLock()
transform_count = [0]  # how many modules were built: lets tests see a cache hit


def lookup(fn: Any, key: tuple, build: Callable[[], EmittedModule]) -> EmittedModule:
    """The cached module for (fn, key), building it (once, under a lock) when missing/stale."""
    per_fn = _entries.get(fn)
    entry = per_fn.get(key) if per_fn else None
    if entry is not None and entry.is_valid(fn):
        return entry.module
    with _lock:
        per_fn = _entries.setdefault(fn, {})
        entry = per_fn.get(key)
        if entry is not None and entry.is_valid(fn):
            return entry.module
        version = registry_version()
        module = build()
        transform_count[0] += 1
        per_fn[key] = Entry(module, fn.__code__, version)
        return module
