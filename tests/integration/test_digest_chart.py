"""The digest's chart shows where the month's deals were lost: per stage, of the deals that reached it,
how many were lost there, and the stage the core names as the worst — read back from the photo the
boss gets (its alt text, stored in the PNG), on a month of sales whose losses are counted by hand."""

from __future__ import annotations

import io

from PIL import Image

from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from bot.core.views import SendPhoto
from crm_core.domain.notifications import NoteKind, decode_payload
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team
from tests.integration.test_digest_figures import SINCE, UNTIL, a_month_of_sales


async def test_the_digests_chart_shows_the_losses_per_stage_and_marks_the_worst(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await a_month_of_sales(crm, team, clock)
    payload = {"since": SINCE.isoformat(), "until": UNTIL.isoformat(), "weekly": False}
    *_, photo = await Notifier(crm, ChatSettings()).render(
        team.boss, decode_payload(NoteKind.DIGEST, payload)
    )
    assert isinstance(photo, SendPhoto)
    image = Image.open(io.BytesIO(photo.png))
    assert image.size[0] == 720
    # By hand: 11 deals came in (10 twenty days ago, 1 yesterday), 7 moved on to Opportunity, where
    # three were lost (A2, B0, B2) and one won; two reached Commercial offer, one Document approval.
    assert image.text["Description"].splitlines() == [
        "Where deals are lost",
        "Lost at each stage, last 30 days",
        "Most are lost at Opportunity.",
        "Unsorted: 0/11",
        "Opportunity: 3/7 ⚠",
        "Commercial offer: 0/2",
        "Document approval: 0/1",
        "Signing & payment: —",
        "Execution: —",
    ]
    assert "share of a stage's deals lost there" in photo.caption
