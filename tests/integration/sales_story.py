"""A month of sales for the targets and summary tests, worked out by hand (UTC times; the team's time
zone is Europe/Moscow, UTC+3 all year). Deals are created in Opportunity unless said otherwise.

    deal  owner  amount   source       created           closed
    A1    Alice  300      manual       03-02 09:00       won 03-04 09:00   (2 days)
    A2    Alice  200      manual       02-27 22:00       won 02-28 22:00   (03-01 01:00 in Moscow: March)
    A3    Alice  500      manual       02-20 09:00       won 02-28 20:30   (02-28 23:30 in Moscow: February)
    A4    Alice  1000     manual       03-03 09:00       open, Commercial offer (35 %)
    A6    Alice  —        call         03-05 09:00       won 03-11 09:00   (6 days)
    B1    Bob    700      manual       03-01 09:00       won 03-05 09:00   (4 days)
    B2    Bob    1500     manual       03-02 09:00       lost 03-06 09:00
    B3    Bob    2000     missed_call  03-03 09:00       open, Opportunity (15 %)
    B4    Bob    —        import       03-04 09:00       open, Opportunity
    B5    Bob    900      manual       03-06 09:00       won 03-16 09:00   (10 days)
    C1    Carol  400      web_form     03-02 09:00       open, Signing & payment (80 %)
    C2    Carol  250.50   manual       03-08 09:00       won 03-10 09:00   (2 days)
    C3    Carol  100      manual       03-09 09:00       lost 03-12 09:00
    C4    Carol  —        manual       03-09 10:00       lost 03-13 09:00

"Now" is 2026-03-20 12:00 UTC (15:00 in Moscow): March has 12 days left, counting the 20th.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crm_core.domain.deals import Source
from crm_core.domain.users import User
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    """'MM-DD HH:MM' in 2026, UTC."""
    return datetime.fromisoformat(f"2026-{text[:5]}T{text[6:]}:00+00:00")


async def tell(crm: Crm, team: Team, clock: FixedClock) -> None:
    """Tell the story above; the clock is left at NOW."""
    alice, bob, carol = team.alice, team.bob, team.carol
    rows: list[tuple[str, User, str | None, Source, str, str | None, str | None]] = [
        # deal, owner, amount, source, created, closed ("won"/"lost" then when), stage if open
        ("A1", alice, "300", Source.MANUAL, "03-02 09:00", "won 03-04 09:00", None),
        ("A2", alice, "200", Source.MANUAL, "02-27 22:00", "won 02-28 22:00", None),
        ("A3", alice, "500", Source.MANUAL, "02-20 09:00", "won 02-28 20:30", None),
        ("A4", alice, "1000", Source.MANUAL, "03-03 09:00", None, "Commercial offer"),
        ("A6", alice, None, Source.CALL, "03-05 09:00", "won 03-11 09:00", None),
        ("B1", bob, "700", Source.MANUAL, "03-01 09:00", "won 03-05 09:00", None),
        ("B2", bob, "1500", Source.MANUAL, "03-02 09:00", "lost 03-06 09:00", None),
        ("B3", bob, "2000", Source.MISSED_CALL, "03-03 09:00", None, "Opportunity"),
        ("B4", bob, None, Source.IMPORT, "03-04 09:00", None, "Opportunity"),
        ("B5", bob, "900", Source.MANUAL, "03-06 09:00", "won 03-16 09:00", None),
        ("C1", carol, "400", Source.WEB_FORM, "03-02 09:00", None, "Signing & payment"),
        ("C2", carol, "250.50", Source.MANUAL, "03-08 09:00", "won 03-10 09:00", None),
        ("C3", carol, "100", Source.MANUAL, "03-09 09:00", "lost 03-12 09:00", None),
        ("C4", carol, None, Source.MANUAL, "03-09 10:00", "lost 03-13 09:00", None),
    ]
    steps: list[tuple[datetime, str, object]] = []
    for name, owner, amount, source, created, closed, stage in rows:
        steps.append((at(created), "create", (name, owner, amount, source, stage or "Opportunity")))
        if closed:
            how, when = closed.split(" ", 1)
            steps.append((at(when), how, (name, owner)))
    ids: dict[str, int] = {}
    for moment, what, args in sorted(steps, key=lambda s: s[0]):
        clock.current = moment
        if what == "create":
            name, owner, amount, source, stage = args  # type: ignore[misc]
            deal = await crm.deals.create(actor=owner, title=name, amount=amount, source=source, stage=stage)
            ids[name] = deal.id
        elif what == "won":
            name, owner = args  # type: ignore[misc]
            await crm.deals.mark_won(deal_id=ids[name], actor=owner)
        else:
            name, owner = args  # type: ignore[misc]
            await crm.deals.mark_lost(deal_id=ids[name], reason="Price", actor=owner)
    clock.current = NOW
