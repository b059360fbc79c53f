"""Build hook: the metadata lives in pyproject.toml; this file only adds the compiled build.

With SYNCD_COMPILE=1, mypyc compiles the policy and the model it works on (typed, pure code
that every event runs through) into C extensions, which about doubles the decisions a core
makes per second; `make dist` builds that wheel. Without it the package is pure Python and
behaves the same: the tests run against both builds.
"""

import os

from setuptools import setup

# Modules compiled by mypyc. Not the pydantic config (mypyc can't compile its models) nor
# modules imported by it (a compiled module may not import its importer half-initialised).
COMPILED = [
    "syncd/model.py",
    "syncd/policy/absence.py",
    "syncd/policy/angles.py",
    "syncd/policy/brief.py",
    "syncd/policy/builder.py",
    "syncd/policy/cadence.py",
    "syncd/policy/calendar.py",
    "syncd/policy/context.py",
    "syncd/policy/decision.py",
    "syncd/policy/entry_points.py",
    "syncd/policy/fit.py",
    "syncd/policy/planner.py",
    "syncd/policy/reasons.py",
    "syncd/policy/timing.py",
    "syncd/policy/touches.py",
    "syncd/policy/upkeep.py",
]


def ext_modules() -> list[object]:
    if os.environ.get("SYNCD_COMPILE") != "1":
        return []
    from mypyc.build import mypycify  # only the compiled build needs mypy

    return list(mypycify(COMPILED, opt_level="3"))


setup(ext_modules=ext_modules())
