"""`syncd classify` (placeholder until the classifier lands)."""

from __future__ import annotations

from typing import TextIO

from syncd.replies.config import RepliesConfig


def run_classify(path: str | None, config: RepliesConfig, out: TextIO) -> int:
    raise NotImplementedError("reply classification is not available in this build")
