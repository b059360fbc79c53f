"""syncd: turns "no" from CRMs and inboxes into well-timed, gentle follow-ups."""

import importlib.machinery
import importlib.util

__version__ = "0.1.0"


def compiled(module: str) -> bool:
    """Whether the named module loads as a C extension (built by mypyc, see setup.py)."""
    spec = importlib.util.find_spec(module)
    origin = (spec.origin if spec else None) or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def build() -> str:
    """Which build runs: "compiled" (the policy as mypyc-built extensions, `make dist`) or
    "interpreted". They behave the same; the compiled one decides about twice as fast."""
    return "compiled" if compiled("syncd.policy.decision") else "interpreted"
