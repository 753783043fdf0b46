"""The bosses' digest: at each boss's chosen time, once per local day (daylight saving neither skips nor
repeats one), weekly on Mondays, covering what happened since the last one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crm_core.domain.notifications import NoteKind
from crm_core.domain.users import Role, User
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.followup_support import DAY, HOUR, MINUTE, queued, tick_until
from tests.integration.support import Team

SUNDAY_MIDNIGHT = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


async def digests_of(crm: Crm, user: User) -> list[dict[str, Any]]:
    return [row for row in await queued(crm, NoteKind.DIGEST) if row["recipient_id"] == user.id]


def iso(month: int, day: int, hour: int) -> str:
    return datetime(2026, month, day, hour, tzinfo=UTC).isoformat()


async def test_each_boss_gets_the_digest_at_their_own_time_once_a_day_weekly_on_monday(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    berlin = await crm.users.add(telegram_id=101, name="Greta", role=Role.BOSS, timezone="Europe/Berlin")
    await crm.followups.set_preferences(actor=berlin, digest_time="18:00")
    clock.current = SUNDAY_MIDNIGHT
    await tick_until(crm, clock, SUNDAY_MIDNIGHT + 3 * DAY, every=HOUR, digest=True)
    mine = await digests_of(crm, team.boss)  # 09:00 UTC, the default
    assert [(r["created_at"], r["payload"]["weekly"]) for r in mine] == [
        (datetime(2026, 3, 1, 9, 0, tzinfo=UTC), False),  # Sunday
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), True),  # Monday: the weekly one
        (datetime(2026, 3, 3, 9, 0, tzinfo=UTC), False),
    ]
    greta = await digests_of(crm, berlin)  # 18:00 in Berlin is 17:00 UTC in March
    assert [r["created_at"] for r in greta] == [datetime(2026, 3, d, 17, 0, tzinfo=UTC) for d in (1, 2, 3)]
    assert await digests_of(crm, team.alice) == []  # sellers get no digest


async def test_each_digest_covers_the_time_since_the_last_one(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    clock.current = SUNDAY_MIDNIGHT
    await tick_until(crm, clock, SUNDAY_MIDNIGHT + 2 * DAY, every=HOUR, digest=True)
    await crm.followups.set_preferences(actor=team.boss, digest_time="18:00")
    await tick_until(crm, clock, SUNDAY_MIDNIGHT + 3 * DAY, every=HOUR, digest=True)
    periods = [(r["payload"]["since"], r["payload"]["until"]) for r in await digests_of(crm, team.boss)]
    assert periods == [
        (iso(2, 28, 9), iso(3, 1, 9)),  # the first one: the day before
        (iso(3, 1, 9), iso(3, 2, 9)),
        (iso(3, 2, 9), iso(3, 3, 18)),  # moved to 18:00: still one a day, and nothing falls between two
    ]


async def test_a_digest_after_a_long_pause_covers_the_last_day_only(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    clock.current = SUNDAY_MIDNIGHT
    await tick_until(crm, clock, SUNDAY_MIDNIGHT + 12 * HOUR, every=HOUR, digest=True)
    await crm.followups.set_preferences(actor=team.boss, digest=False)
    await tick_until(crm, clock, SUNDAY_MIDNIGHT + 10 * DAY, every=6 * HOUR, digest=True)
    assert len(await digests_of(crm, team.boss)) == 1
    await crm.followups.set_preferences(actor=team.boss, digest=True)
    await tick_until(crm, clock, clock.now() + DAY, every=HOUR, digest=True)
    last = (await digests_of(crm, team.boss))[-1]["payload"]
    assert datetime.fromisoformat(last["until"]) - datetime.fromisoformat(last["since"]) == DAY


# -- daylight saving ----------------------------------------------------------------------------

TIMES = ("01:30", "02:00", "02:30", "03:00", "09:00")
DST_DAYS = {
    # zone, the day the clocks change: for each digest time, when (UTC) the day's one digest comes
    "berlin-spring": (  # 02:00 CET -> 03:00 CEST: 02:00-02:59 do not exist
        "Europe/Berlin",
        date(2026, 3, 29),
        ["00:30", "01:00", "01:00", "01:00", "07:00"],
    ),
    "berlin-autumn": (  # 03:00 CEST -> 02:00 CET: 02:00-02:59 happen twice
        "Europe/Berlin",
        date(2026, 10, 25),
        ["-23:30", "00:00", "00:30", "02:00", "08:00"],
    ),
    "new-york-spring": (
        "America/New_York",
        date(2026, 3, 8),
        ["06:30", "07:00", "07:00", "07:00", "13:00"],
    ),
    "new-york-autumn": (  # 02:00 EDT -> 01:00 EST: 01:00-01:59 happen twice
        "America/New_York",
        date(2026, 11, 1),
        ["05:30", "07:00", "07:30", "08:00", "14:00"],
    ),
}


def utc_on(day: date, text: str) -> datetime:
    """``"05:30"`` on ``day`` in UTC; ``"-23:30"`` is the evening before."""
    before = text.startswith("-")
    hours, minutes = map(int, text.lstrip("-").split(":"))
    moment = datetime(day.year, day.month, day.day, hours, minutes, tzinfo=UTC)
    return moment - DAY if before else moment


@pytest.mark.parametrize("case", list(DST_DAYS))
async def test_a_daylight_saving_change_neither_skips_nor_repeats_a_digest(
    crm: Crm, clock: FixedClock, case: str
) -> None:
    zone_name, day, expected = DST_DAYS[case]
    zone = ZoneInfo(zone_name)
    bosses = []
    for number, at in enumerate(TIMES):
        boss = await crm.users.add(
            telegram_id=100 + number, name=f"Boss {at}", role=Role.BOSS, timezone=zone_name
        )
        await crm.followups.set_preferences(actor=boss, digest_time=at)
        bosses.append(boss)
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    clock.current = (midnight - 2 * HOUR).astimezone(UTC)
    # every 5 minutes through the night of the change, every hour for the rest of the day
    await tick_until(crm, clock, midnight.astimezone(UTC), every=30 * MINUTE, digest=True)
    await tick_until(crm, clock, (midnight + 4 * HOUR).astimezone(UTC), every=5 * MINUTE, digest=True)
    await tick_until(crm, clock, (midnight + 28 * HOUR).astimezone(UTC), every=HOUR, digest=True)
    for boss, at, when in zip(bosses, TIMES, expected, strict=True):
        sent = [r["created_at"] for r in await digests_of(crm, boss)]
        local_days = [moment.astimezone(zone).date() for moment in sent]
        assert len(local_days) == len(set(local_days)), f"{case}: the {at} digest came twice in a day"
        assert [m for m, d in zip(sent, local_days, strict=True) if d == day] == [utc_on(day, when)], at
        assert day + timedelta(days=1) in local_days or at == "09:00", f"{case}: the {at} digest skipped"
