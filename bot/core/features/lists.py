"""The kanban in the chat: the board (stages with counts and sums), a stage's column, my deals, search."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.dialogs import FindQuestion
from bot.core.events import SharedContact, Text
from bot.core.features.cards import STAGE_ICON, stage_label, stage_name
from bot.core.features.deal_view import deal_label, deal_lines
from bot.core.features.funnel_picks import (
    funnel,
    funnel_line,
    funnel_rows,
    last_used_first,
    remember,
    several,
)
from bot.core.features.morning import plan_view
from bot.core.i18n import h
from bot.core.routing import Router
from bot.core.views import Button, Reply, View, short
from crm_core.domain.conversations import Dialog
from crm_core.domain.deals import Deal
from crm_core.domain.errors import InvalidInput
from crm_core.domain.funnel import StageKind
from crm_core.domain.listing import DealOrder

router = Router("lists")
PAGE = 8


def column_token(stage_id: int, owner: int, order_code: str, cursor: str | None) -> str:
    return f"c.{stage_id}.{owner}.{order_code}" + (f".{cursor}" if cursor else "")


def opener(label: str, deal_id: int, back: str) -> Button:
    """A list's button that opens a deal's card with the way back to the list (to its first page when
    the page's cursor does not fit in the button)."""
    for token in (
        back,
        back.split(".")[0] + ".0" if back.startswith("my") else ".".join(back.split(".")[:4]),
    ):
        try:
            return Button.act(label, A.CardFrom(deal_id, token))
        except ValueError:
            continue
    return Button.act(label, A.Card(deal_id))


@router.button(A.BackToList)
async def on_back_to_list(ctx: ChatContext, p: A.BackToList) -> Reply:
    """Go back from a card to the list (and page) it was opened from."""
    kind, *parts = p.back.split(".")
    if kind == "my" and len(parts) == 1 and parts[0].isdigit():
        return Reply().edit(ctx.message_id, await my_deals_view(ctx, int(parts[0])))
    column = len(parts) >= 3 and parts[0].isdigit() and parts[1].isdigit() and parts[2] in ("n", "w")
    if kind == "c" and column:
        cursor = ".".join(parts[3:]) or None
        view = await column_view(ctx, int(parts[0]), int(parts[1]), parts[2], cursor)
        return Reply().edit(ctx.message_id, view)
    if kind == "mp" and len(parts) == 1 and parts[0].isdigit():  # the morning plan
        return Reply().edit(ctx.message_id, await plan_view(ctx, int(parts[0])))
    raise InvalidInput("list", p.back)


async def board_view(ctx: ChatContext, owner_telegram_id: int = 0, pipeline_id: int | None = None) -> View:
    """The board of one funnel (``None``: the default; with several funnels it is named, and the others
    are a press away)."""
    tr = ctx.tr
    board = await ctx.crm.deals.board(
        actor=ctx.user, owner_telegram_id=owner_telegram_id or None, pipeline=pipeline_id
    )
    whose: str = tr("all deals") if ctx.user.is_boss else tr("your deals")
    if owner_telegram_id:
        owner = await ctx.crm.users.by_telegram_id(owner_telegram_id)
        whose = owner.name if owner else "?"
    currency = ctx.crm.config.default_currency
    several_funnels = await several(ctx)
    lines = [
        f"📊 <b>{tr('Board')}</b> · {h(whose)}",
        *([funnel_line(board.pipeline)] if several_funnels else []),
        tr("{count} open · {amount}", count=board.open_count, amount=tr.money(board.open_amount, currency)),
    ]
    if board.unassigned:
        lines.append(
            "📥 "
            + tr.ngettext(
                "{n} unassigned deal in the inbox to take (not counted as yours)",
                "{n} unassigned deals in the inbox to take (not counted as yours)",
                board.unassigned,
            )
        )
    buttons = []
    for column in board.columns:
        amount = f" · {tr.money(column.amount, currency)}" if column.amount else ""
        beside = (
            " " + tr.label_n("+{n} to take", "+{n} to take", column.unassigned) if column.unassigned else ""
        )
        name = f"{STAGE_ICON[column.stage.kind]} {stage_label(column.stage, tr)}"
        label = f"{name} · {column.count}{amount}{beside}"
        buttons.append([Button.act(label, A.Column(column.stage.id, owner_telegram_id, "n"))])
    if several_funnels:  # the other funnels' boards, a press away
        others = [f for f in await last_used_first(ctx) if f.id != board.pipeline.id]
        buttons += funnel_rows(others, lambda other: A.BoardIn(other, owner_telegram_id))
    if ctx.user.is_boss:
        sellers = A.BoardSellersIn(board.pipeline.id) if several_funnels else A.BoardSellers()
        buttons.append([Button.act("👤 " + tr("Choose a seller…"), sellers)])
    if ctx.settings.board_app_url:
        buttons.append([Button("🗂 " + tr("Open the board app"), web_app=ctx.settings.board_app_url)])
    return View.of(lines, buttons)


async def funnel_choice(ctx: ChatContext, owner_telegram_id: int) -> View:
    """Which funnel's board to see (the one last used first)."""
    rows = funnel_rows(
        await last_used_first(ctx), lambda pipeline: A.BoardIn(pipeline, owner_telegram_id), one=True
    )
    return View.of([f"📊 <b>{ctx.tr('Board')}</b>", ctx.tr("Which funnel?")], rows)


async def board_or_choice(ctx: ChatContext, owner_telegram_id: int = 0) -> View:
    """The board; with several funnels, first the question which one."""
    if await several(ctx):
        return await funnel_choice(ctx, owner_telegram_id)
    return await board_view(ctx, owner_telegram_id)


@router.command("board")
async def on_board(ctx: ChatContext, args: str) -> Reply:
    """Show the board: every stage with its deal count and sum (with several funnels: which one first)."""
    return Reply().send(await board_or_choice(ctx))


@router.button(A.Board, A.BoardFunnels)
async def on_board_button(ctx: ChatContext, p: A.Board | A.BoardFunnels) -> Reply:
    return Reply().edit(ctx.message_id, await board_or_choice(ctx, p.owner))


@router.button(A.BoardIn)
async def on_board_in(ctx: ChatContext, p: A.BoardIn) -> Reply:
    """Show one funnel's board, and remember it as the one last used."""
    pipeline = await funnel(ctx, p.pipeline_id)
    view = await board_view(ctx, p.owner, pipeline.id)
    await remember(ctx, pipeline.id)
    return Reply().edit(ctx.message_id, view)


@router.button(A.BoardSellers, A.BoardSellersIn)
async def on_board_sellers(ctx: ChatContext, p: A.BoardSellers | A.BoardSellersIn) -> Reply:
    """Let a boss pick whose board to see (of the funnel the board was in)."""
    people = await ctx.crm.users.list(actor=ctx.user, active=True)
    pipeline_id = p.pipeline_id if isinstance(p, A.BoardSellersIn) else None

    def board_of(telegram_id: int) -> A.Board | A.BoardIn:
        return A.Board(telegram_id) if pipeline_id is None else A.BoardIn(pipeline_id, telegram_id)

    buttons = [Button.act(u.name, board_of(u.telegram_id)) for u in people]
    rows = [
        [Button.act("👥 " + ctx.tr("Everyone"), board_of(0))],
        *[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
    ]
    return Reply().edit(ctx.message_id, View.of([ctx.tr("Whose board?")], rows))


async def column_view(
    ctx: ChatContext, stage_id: int, owner: int, order_code: str, cursor: str | None
) -> View:
    tr = ctx.tr
    order = DealOrder.WAITING if order_code == "w" else DealOrder.NEWEST
    backwards = bool(cursor and cursor.startswith("-"))
    stage, page = await ctx.crm.deals.column(
        stage=stage_id,
        actor=ctx.user,
        owner_telegram_id=owner or None,
        order=order,
        cursor=cursor.lstrip("-") if cursor else None,
        backwards=backwards,
        limit=PAGE,
    )
    board = await ctx.crm.deals.board(
        actor=ctx.user, owner_telegram_id=owner or None, pipeline=stage.pipeline_id
    )
    column = next(c for c in board.columns if c.stage.id == stage.id)
    lines = [
        f"{STAGE_ICON[stage.kind]} <b>{stage_name(stage, tr)}</b> · "
        + tr.ngettext("{n} deal", "{n} deals", column.count)
        + (f" · {tr.money(column.amount, ctx.crm.config.default_currency)}" if column.amount else "")
        + (
            " · " + tr.ngettext("{n} unassigned to take", "{n} unassigned to take", column.unassigned)
            if column.unassigned
            else ""
        )
    ]
    if stage.playbook and stage.is_open:
        lines.append(f"💡 <i>{tr(stage.playbook)}</i>")
    if not page.items:
        lines.append(tr("No deals here."))
    buttons: list[list[Button]] = []
    labelled: list[tuple[Deal, list[str]]] = []
    for deal in page.items:
        takeable = deal.owner is None and stage.kind is StageKind.INBOX
        whose = deal.owner.name if ctx.user.is_boss and deal.owner else ""
        label, dropped = deal_label(deal, ctx, details=[whose], per_row=2 if takeable else 1)
        labelled.append((deal, dropped))
        row = [opener(label, deal.id, column_token(stage.id, owner, order_code, cursor))]
        if takeable:
            row.append(Button.act("🙋 " + tr("Take"), A.Take(deal.id, deal.version)))
        buttons.append(row)
    lines += deal_lines(labelled, ctx)
    nav = []
    if page.prev_cursor:
        nav.append(Button.act("◀", A.ColumnPage(stage.id, owner, order_code, "-" + page.prev_cursor)))
    flip = "w" if order_code == "n" else "n"
    nav.append(
        Button.act(
            "⇅ " + (tr("Waiting longest") if flip == "w" else tr("Newest first")),
            A.Column(stage.id, owner, flip),
        )
    )
    if page.next_cursor:
        nav.append(Button.act("▶", A.ColumnPage(stage.id, owner, order_code, page.next_cursor)))
    to_board = A.BoardIn(stage.pipeline_id, owner) if await several(ctx) else A.Board(owner)
    buttons += [nav, [Button.act("⬅ " + tr("Board"), to_board)]]
    return View.of(lines, buttons)


@router.button(A.Column)
async def on_column(ctx: ChatContext, p: A.Column) -> Reply:
    """Open a stage's column: its deals by date, eight at a time."""
    return Reply().edit(ctx.message_id, await column_view(ctx, p.stage_id, p.owner, p.order, None))


@router.button(A.ColumnPage)
async def on_column_page(ctx: ChatContext, p: A.ColumnPage) -> Reply:
    return Reply().edit(ctx.message_id, await column_view(ctx, p.stage_id, p.owner, p.order, p.cursor))


async def my_deals_view(ctx: ChatContext, page: int) -> View:
    tr = ctx.tr
    mine = await ctx.crm.deals.my_open_page(actor=ctx.user, page=page, size=PAGE)
    lines = [f"📋 <b>{tr('My deals')}</b> · " + tr.ngettext("{n} open", "{n} open", mine.total)]
    if mine.stale:
        lines.append("⏳ " + tr.ngettext("{n} needs a follow-up", "{n} need a follow-up", mine.stale))
    if not mine.total:
        lines.append(tr("No open deals. Create one with /new."))
    labelled = [(d, *deal_label(d, ctx, details=[stage_label(d.stage, tr)])) for d in mine.deals]
    lines += deal_lines([(d, dropped) for d, _, dropped in labelled], ctx)
    buttons = [[opener(label, d.id, f"my.{page}")] for d, label, _ in labelled]
    nav = []
    if page:
        nav.append(Button.act("◀", A.MyDeals(str(page - 1))))
    if (page + 1) * PAGE < mine.total:
        nav.append(Button.act("▶", A.MyDeals(str(page + 1))))
    return View.of(lines, [*buttons, nav])


@router.command("deals")
async def on_deals(ctx: ChatContext, args: str) -> Reply:
    """List my open deals, the ones needing a follow-up first."""
    return Reply().send(await my_deals_view(ctx, 0))


@router.button(A.MyDeals)
async def on_deals_page(ctx: ChatContext, p: A.MyDeals) -> Reply:
    if not p.page.isdigit():
        raise InvalidInput("page", p.page)
    return Reply().edit(ctx.message_id, await my_deals_view(ctx, int(p.page)))


def _stage_and_owner(deal: Deal, ctx: ChatContext) -> tuple[str, str]:
    owner = deal.owner.name if ctx.user.is_boss and deal.owner else ""
    return stage_label(deal.stage, ctx.tr), owner


async def found_deals(ctx: ChatContext, query: str) -> Reply:
    """Deals matching a phone, a title or a name, as buttons."""
    deals = await ctx.crm.deals.find(query=query, actor=ctx.user, limit=PAGE)
    tr = ctx.tr
    if not deals:
        return Reply().send(View.of(["🔎 " + tr("Nothing found for «{query}».", query=short(query, 60))]))
    lines = ["🔎 " + tr("Found for «{query}»:", query=short(query, 60))]
    labelled = [(d, *deal_label(d, ctx, details=list(_stage_and_owner(d, ctx)))) for d in deals]
    lines += deal_lines([(d, dropped) for d, _, dropped in labelled], ctx)
    buttons = [[Button.act(label, A.Card(d.id))] for d, label, _ in labelled]
    return Reply().send(View.of(lines, buttons))


@router.command("find", "search")
async def on_find(ctx: ChatContext, args: str) -> Reply:
    """Find deals: /find <name, title, phone or its last digits>."""
    if len(args.strip()) < 2:
        await ctx.crm.dialogs.put(ctx.user.telegram_id, FindQuestion(), step="answer")
        question = "🔎 " + ctx.tr(
            "What should I look for? Send a name, a title or a phone (or its last digits)."
        )
        return Reply().send(View.of([question, "<i>" + ctx.tr("Send /cancel to stop.") + "</i>"]))
    return await found_deals(ctx, args.strip())


@router.flow(FindQuestion.FLOW)
async def on_find_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """The words /find asked for: search them (too short a word is asked for again)."""
    query = (event.text if isinstance(event, Text) else event.phone).strip()
    if len(query) < 2:
        return Reply().send(View.of([ctx.tr("Type at least two characters to search, or use the menu.")]))
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return await found_deals(ctx, query)
