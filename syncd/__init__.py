"""syncd: turns "no" from CRMs and inboxes into well-timed, gentle follow-ups."""

import importlib.machinery
import importlib.util

__version__ = "0.1.0"


def build() -> str:
    """"compiled" when the policy runs as mypyc-built extensions (`make dist`), else
    "interpreted": the two behave the same, the compiled one decides about twice as fast."""
    spec = importlib.util.find_spec("syncd.policy.decision")
    origin = (spec.origin if spec else None) or ""
    compiled = origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    return "compiled" if compiled else "interpreted"
