"""The `[replies]` section: tuning of reply classification."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RepliesConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
