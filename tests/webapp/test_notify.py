"""After a move on the board, the chat shows the deal's card with a line saying what happened."""

from __future__ import annotations

import bot.webapp.api  # noqa: F401 (registers the renderer, as it does in a running Kanbot)
from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from bot.core.views import View
from crm_core.domain.notifications import NoteKind, decode_payload
from crm_core.domain.users import Role
from crm_core.services import Crm
from crm_core.services.board_notices import tell_moved_on_board


async def test_the_note_of_a_board_move_is_queued_once_and_renders_as_the_card(crm: Crm) -> None:
    ali = await crm.users.add(telegram_id=2001, name="Ali", role=Role.SELLER)
    deal = await crm.deals.create(actor=ali, title="ACME phones", amount="4200", stage="Opportunity")
    deal = await crm.deals.move(deal_id=deal.id, to_stage="Commercial offer", actor=ali)
    await tell_moved_on_board(crm, deal=deal, actor=ali)
    await tell_moved_on_board(crm, deal=deal, actor=ali)  # the same move twice: one note
    async with crm.db.uow(write=False) as uow:
        notes = await uow.outbox.pending()
    assert [(n["kind"], n["recipient_id"]) for n in notes] == [(NoteKind.DEAL_MOVED_ON_BOARD, ali.id)]
    [view] = await Notifier(crm, ChatSettings()).render(
        ali, decode_payload(notes[0]["kind"], notes[0]["payload"])
    )
    assert isinstance(view, View)
    assert view.html.startswith("🔹 Moved to Commercial offer on the board.")
    assert "ACME phones" in view.html
    assert any("⋯ More" in b.text for row in view.buttons for b in row)


async def test_a_deal_won_on_the_board_is_celebrated_in_the_users_language(crm: Crm) -> None:
    maria = await crm.users.add(telegram_id=2002, name="Maria", role=Role.SELLER, locale="ru")
    deal = await crm.deals.create(actor=maria, title="Globex PBX", stage="Opportunity")
    deal = await crm.deals.move(deal_id=deal.id, to_stage="Won", actor=maria)
    await tell_moved_on_board(crm, deal=deal, actor=maria)
    async with crm.db.uow(write=False) as uow:
        [note] = await uow.outbox.pending()
    [view] = await Notifier(crm, ChatSettings()).render(maria, decode_payload(note["kind"], note["payload"]))
    assert isinstance(view, View)
    assert view.html.startswith("🏆 ") and "Globex PBX" in view.html
    assert "<b>Выиграна</b>" in view.html  # the card's stage line, in Russian


async def test_a_note_about_a_deal_gone_since_renders_nothing(crm: Crm) -> None:
    ali = await crm.users.add(telegram_id=2001, name="Ali", role=Role.SELLER)
    payload = {"deal_id": 424242, "stage_id": 1, "stage_name": "Won"}
    assert (
        await Notifier(crm, ChatSettings()).render(ali, decode_payload(NoteKind.DEAL_MOVED_ON_BOARD, payload))
        == []
    )
