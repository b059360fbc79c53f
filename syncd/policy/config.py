"""The `[policy]` section: every tunable of POLICY.md with its default."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IcpConfig(_Frozen):
    """The ideal customer profile. Missing data is "unknown", treated as `unknown_is_fit`."""

    min_employees: int | None = None
    max_employees: int | None = None
    industries: list[str] = Field(default_factory=list)  # empty: any industry
    countries: list[str] = Field(default_factory=list)  # empty: any country
    unknown_is_fit: bool = True


class PolicyConfig(_Frozen):
    icp: IcpConfig = IcpConfig()
    base_callback_days: int = Field(default=182, ge=1)
    ack_delay_business_days: int = Field(default=1, ge=0)
    horizon_days: int = Field(default=7, ge=0)  # materialise touches due within this many days
