"""syncd: turns "no" from CRMs and inboxes into well-timed, gentle follow-ups."""

import importlib.machinery
import importlib.util

__version__ = "0.1.0"


def compiled(module: str) -> bool:
    """Whether the named module loads as a C extension. syncd ships as one pure-Python wheel;
    only the store codec still asks, for classes a third-party build might have compiled."""
    spec = importlib.util.find_spec(module)
    origin = (spec.origin if spec else None) or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
