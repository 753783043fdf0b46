"""Two pipelines through the running bot: a call to a pipeline's number, and the digest's sections."""

from __future__ import annotations

from crm_core.services import Crm
from crm_core.services.funnel import funnels_spec_from_document
from tests.e2e.harness import ALI, BOSS, EmulatedChat, RunningKanbot, call_body, post_call

RENEWALS_NUMBER = "+74951230001"


async def two_pipelines(crm: Crm) -> None:
    sales = await crm.pipelines.document()
    document = {
        "pipelines": [
            {"pipeline": "Sales", "default": True, "stages": sales["stages"]},
            {
                "pipeline": "Renewals",
                "numbers": [RENEWALS_NUMBER],
                "stages": [
                    {"name": "New renewal", "kind": "inbox", "follow_up": "4h"},
                    {"name": "Renewed", "kind": "won"},
                    {"name": "Churned", "kind": "lost"},
                ],
            },
        ]
    }
    await crm.pipelines.apply(funnels_spec_from_document(document))


async def test_a_missed_call_to_a_pipelines_number_opens_its_deal_there(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await two_pipelines(crm)
    await post_call(
        kanbot.http_url, call_body("did-1", caller="+79161112233", dialed=None, did=RENEWALS_NUMBER)
    )
    await post_call(kanbot.http_url, call_body("did-2", caller="+79162223344"))  # to another number
    await chat.wait_until(lambda: _notices(chat, 2), what="Ali to hear of both missed calls")
    boss = await crm.users.identify(BOSS)
    renewals = await crm.deals.list_deals(actor=boss, pipeline="Renewals")
    sales = await crm.deals.list_deals(actor=boss, pipeline="Sales")
    assert [(d.contact.phone if d.contact else None, d.stage.name) for d in renewals] == [
        ("+79161112233", "New renewal")
    ]
    assert [(d.contact.phone if d.contact else None, d.stage.name) for d in sales] == [
        ("+79162223344", "Unsorted")
    ]


async def _notices(chat: EmulatedChat, count: int) -> bool:
    return sum("Missed call" in m.text for m in await chat.bot_messages(ALI)) >= count


async def test_the_digest_has_a_section_per_pipeline(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await two_pipelines(crm)
    ali = await crm.users.identify(ALI)
    await crm.deals.create(actor=ali, title="Renewal of ACME", pipeline="Renewals")
    await crm.deals.create(actor=ali, title="New sale")
    await chat.send(BOSS, "/digest")
    text = next(m.text for m in reversed(await chat.bot_messages(BOSS)) if "Daily digest" in m.text)
    assert (
        text.index("Sales")
        < text.index("Unsorted: 1")
        < text.index("Renewals")
        < text.index("New renewal: 1")
    )
    # each section is headed by the funnel's mark, the one the board and the card use (not the board app's)
    assert "🧭 Sales" in text and "🧭 Renewals" in text and "🗂" not in text


async def test_the_team_counts_a_sellers_deals_in_every_pipeline(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await two_pipelines(crm)
    ali = await crm.users.identify(ALI)
    await crm.deals.create(actor=ali, title="New sale", amount="100")
    await crm.deals.create(actor=ali, title="Renewal of ACME", amount="250", pipeline="Renewals")
    won = await crm.deals.create(actor=ali, title="Renewal of Initech", amount="40", pipeline="Renewals")
    await crm.deals.mark_won(deal_id=won.id, actor=ali)
    await chat.send(BOSS, "/team")
    team = (await chat.last(BOSS)).text
    assert next(row for row in team.splitlines() if row.startswith("• Ali:")) == "• Ali: 2 · 1 · 0"
    await chat.click(BOSS, "Ali · 2/1")
    page = (await chat.last(BOSS)).text
    assert "Open: 2 · ₽350" in page and "Won in 30 days: 1 · ₽40" in page
