"""syncd: turns "no" from CRMs and inboxes into well-timed, gentle follow-ups."""

import importlib.machinery
import importlib.util

__version__ = "0.1.0"


def build() -> str:
    """Which build runs: "compiled" (the policy as mypyc-built extensions, `make dist`) or
    "interpreted". They behave the same; the compiled one decides about twice as fast."""
    spec = importlib.util.find_spec("syncd.policy.decision")
    origin = (spec.origin if spec else None) or ""
    compiled = origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    return "compiled" if compiled else "interpreted"
