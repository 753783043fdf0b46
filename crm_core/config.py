"""The core's configuration, as plain values: ``kanbot`` builds it from the settings and passes it in."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta

from crm_core.domain.calls import CallFloodRule
from crm_core.domain.schedule import WorkingHours


class CreateDealsFrom(enum.StrEnum):
    ALL = "all"  # answered and missed calls from unknown numbers make deals
    MISSED = "missed"  # only missed calls do; answered ones just pop up
    NONE = "none"  # no call makes a deal by itself; the pop-up offers to


@dataclass(frozen=True, slots=True)
class CrmConfig:
    default_region: str = "RU"
    default_currency: str = "RUB"
    calls_create_deals: CreateDealsFrom = CreateDealsFrom.ALL
    call_back_after: timedelta = timedelta(minutes=15)
    own_numbers: frozenset[str] = field(default_factory=frozenset)
    blocked_numbers: frozenset[str] = field(default_factory=frozenset)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    call_back_repeat_after: timedelta = timedelta(minutes=30)
    # Missed calls from one number within this window make one notice, with their count.
    repeat_call_window: timedelta = timedelta(minutes=10)
    call_flood: CallFloodRule = field(default_factory=CallFloodRule)
    # A deal's owner hears of colleagues' calls with their customers in one notice this long after the first.
    colleague_calls_window: timedelta = timedelta(minutes=15)
    # A PBX that places calls from the CRM is configured: cards offer "Call".
    places_calls: bool = False
    # Calls' recordings are deleted this many days after they were fetched (0: kept for ever).
    recordings_keep_days: int = 90
    # The team's time zone: where a target's month begins and ends, and how many days are left in it.
    team_timezone: str = "UTC"
