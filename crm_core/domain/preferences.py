"""A person's follow-up preferences, and the record of a stale period reminded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class Preferences:
    user_id: int
    digest_time: str = "09:00"
    digest_enabled: bool = True
    morning_plan_enabled: bool = True
    last_digest_on: str | None = None
    last_digest_at: datetime | None = None
    last_morning_on: str | None = None
    morning_time: str | None = None  # None: when the working hours begin
    last_pipeline_id: int | None = None  # the funnel last worked in: offered first


@dataclass(slots=True)
class Reminded:
    deal_id: int
    stale_since: datetime
    reminded_at: datetime
