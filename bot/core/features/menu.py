"""Getting in and around: joining by invite, the main menu, help, language, cancel, strangers."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.context import ChatContext, ChatSettings
from bot.core.events import ButtonPress, Command, Event, SharedContact, Text
from bot.core.features.card import details
from bot.core.features.deal_view import deal_card
from bot.core.features.lists import found_deals
from bot.core.i18n import SUPPORTED, Tr
from bot.core.routing import Router
from bot.core.views import Answer, Button, Menu, Reply, SetCommands, View
from crm_core.domain.errors import InvalidInput
from crm_core.domain.users import User
from crm_core.services import Crm

router = Router("menu")
LANGUAGES = {"en": "English", "ru": "Русский", "ar": "العربية"}


def labels(tr: Tr) -> dict[str, str]:
    """Main-menu button labels → the command each one runs."""
    return {
        "📋 " + tr("My deals"): "deals",
        "➕ " + tr("New deal"): "new",
        "📊 " + tr("Board"): "board",
        "✅ " + tr("Tasks"): "tasks",
        "📈 " + tr("Report"): "report",
        "👥 " + tr("Team"): "team",
    }


def main_menu(tr: Tr, user: User) -> Menu:
    names = {command: label for label, command in labels(tr).items()}
    rows = [(names["deals"], names["new"]), (names["board"], names["tasks"])]
    if user.is_boss:
        rows.append((names["report"], names["team"]))
    return Menu(tuple(rows))


def command_list(tr: Tr, *, boss: bool) -> list[tuple[str, str]]:
    commands = [
        ("deals", tr("My deals")),
        ("new", tr("New deal")),
        ("board", tr("The funnel board")),
        ("tasks", tr("My tasks")),
        ("find", tr("Find a deal by name or phone")),
        ("report", tr("Funnel report")),
    ]
    if boss:
        commands += [
            ("team", tr("The team")),
            ("invite", tr("Invite someone")),
            ("digest", tr("Daily digest now")),
        ]
    tail = [
        ("settings", tr("Time zone, language, morning plan")),
        ("lang", tr("Language")),
        ("help", tr("Help")),
        ("cancel", tr("Cancel what I'm doing")),
    ]
    return [*commands, *tail]


def help_lines(ctx: ChatContext) -> list[str]:
    return [f"/{name} — {text}" for name, text in command_list(ctx.tr, boss=ctx.user.is_boss)]


def set_commands(tr: Tr, user: User, settings: ChatSettings) -> SetCommands:
    """The chat's command menu, and its menu button (the board app, when it is on), in ``tr``'s language."""
    board = settings.board_app_url
    return SetCommands(
        tuple(command_list(tr, boss=user.is_boss)), (tr.label("Board"), board) if board else None
    )


def welcome(tr: Tr, user: User) -> View:
    role = tr("boss") if user.is_boss else tr("seller")
    lines = [
        tr("Hi, {name}! I'm Kanbot, your sales funnel in the chat.", name=user.name),
        tr("You're in the team as a {role}.", role=role),
        "",
        tr("Use the menu below, or type a name or a phone number to find a deal."),
    ]
    return View.of(lines, menu=main_menu(tr, user))


@router.command("start", "menu")
async def on_start(ctx: ChatContext, args: str) -> Reply:
    """Greet a member and show the main menu."""
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    reply = Reply()
    if args:
        reply.send(View.of([ctx.tr("You're already in the team — no invitation needed.")]))
    reply.actions.append(set_commands(ctx.tr, ctx.user, ctx.settings))
    return reply.send(welcome(ctx.tr, ctx.user))


@router.command("help")
async def on_help(ctx: ChatContext, args: str) -> Reply:
    """List what the bot can do."""
    lines = [
        "<b>" + ctx.tr("What I can do") + "</b>",
        *help_lines(ctx),
        "",
        ctx.tr("Tip: send a phone number, its last digits or a name to find a deal."),
    ]
    return Reply().send(View.of(lines, menu=main_menu(ctx.tr, ctx.user)))


@router.command("cancel")
async def on_cancel(ctx: ChatContext, args: str) -> Reply:
    """Leave whatever flow the user is in."""
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return Reply().send(View.of([ctx.tr("Cancelled. What next?")], menu=main_menu(ctx.tr, ctx.user)))


@router.button(A.Cancel)
async def on_cancel_button(ctx: ChatContext, p: A.Cancel) -> Reply:
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return Reply().edit(ctx.message_id, View.of([ctx.tr("Cancelled.")])).answer(ctx.tr("Cancelled."))


@router.command("lang", "language")
async def on_lang(ctx: ChatContext, args: str) -> Reply:
    """Pick the interface language (or `/lang ru`)."""
    if args.strip().lower() in LANGUAGES:
        return await _switch(ctx, args.strip().lower())
    return Reply().send(View.of([ctx.tr("Choose your language:")], _picker(ctx.user.locale)))


def _picker(current: str) -> list[list[Button]]:
    return [
        [
            Button.act(("• " if code == current else "") + name, A.Lang(code))
            for code, name in LANGUAGES.items()
        ]
    ]


@router.button(A.Lang)
async def on_lang_button(ctx: ChatContext, p: A.Lang) -> Reply:
    """Switch the language from the picker, which then shows the choice (no second picker below)."""
    if p.locale not in LANGUAGES:
        raise InvalidInput("locale", p.locale)
    return await _switch(ctx, p.locale, picker=ctx.message_id)


async def _switch(ctx: ChatContext, locale: str, *, picker: int | None = None) -> Reply:
    user = await ctx.crm.users.update_preferences(actor=ctx.user, locale=locale)
    tr = Tr(user.locale, user.timezone)
    reply = Reply(locale=user.locale)
    reply.actions.append(set_commands(tr, user, ctx.settings))
    chosen = "🌐 " + tr("Language: English")
    if picker is not None:  # the reply keyboard's labels change too: that takes a message of its own
        reply.edit(picker, View.of([chosen], _picker(user.locale)))
        return reply.send(View.of([tr("Use the menu below.")], menu=main_menu(tr, user))).answer()
    return reply.send(View.of([chosen, tr("Use the menu below.")], menu=main_menu(tr, user))).answer()


@router.button(A.Noop)
async def on_noop(ctx: ChatContext, p: A.Noop) -> Reply:
    return Reply().answer()


@router.button(A.Menu)
async def on_menu_button(ctx: ChatContext, p: A.Menu) -> Reply:
    return Reply().send(welcome(ctx.tr, ctx.user))


async def free_text(ctx: ChatContext, event: Text | SharedContact) -> Reply:
    """Text outside any flow is a search: a phone (any format or its last digits), a title, a name."""
    query = event.text if isinstance(event, Text) else event.phone
    if len(query.strip()) < 2:
        return Reply().send(
            View.of(
                [ctx.tr("Type at least two characters to search, or use the menu.")],
                menu=main_menu(ctx.tr, ctx.user),
            )
        )
    return await found_deals(ctx, query.strip())


async def stale_card(ctx: ChatContext, deal_id: int) -> Reply:
    """A button from an old card: say so, and show the deal as it is now."""
    text = ctx.tr("This card is out of date — here is the current one.")
    found = await details(ctx, deal_id)
    view = deal_card(found, ctx, notice="🔄 " + text)
    reply = Reply(actions=[Answer(text, alert=False)])
    return reply.edit(ctx.message_id, view)


async def stranger(crm: Crm, settings: ChatSettings, event: Event, *, known: User | None) -> Reply:
    """Someone not (or no longer) in the team: an invitation lets them in; anything else is refused
    with a reply marked ``stranger`` (the chat core sends it only within the strangers' budget)."""
    tr = Tr(event.sender.language_code or "en")
    if isinstance(event, Command) and event.name == "start" and event.args:
        try:
            user = await crm.invites.redeem(
                code=event.args.strip(),
                telegram_id=event.sender.id,
                name=event.sender.full_name,
                language_code=event.sender.language_code,
            )
        except InvalidInput:
            return Reply(stranger=True).send(
                View.of(
                    [
                        "⛔ "
                        + tr(
                            "This invitation has expired or was already used. Ask your manager for a new one."
                        )
                    ]
                )
            )
        tr = Tr(user.locale, user.timezone)
        reply = Reply()
        reply.actions.append(set_commands(tr, user, settings))
        return reply.send(welcome(tr, user))
    lines = [
        "👋 " + tr("Sorry, this is a private sales CRM: I only work for members of the team."),
        tr(
            "Your Telegram id is <code>{id}</code> — send it to your manager so they can add you.",
            id=event.sender.id,
        ),
    ]
    if known is not None and not known.active:
        lines = [
            "⛔ " + tr("Your access to this CRM has been switched off. Ask your manager if that's a mistake.")
        ]
    reply = Reply(stranger=True)  # sent within the strangers' budget, after members' replies
    if isinstance(event, ButtonPress):
        return reply.answer(lines[0], alert=True)
    return reply.send(View.of(lines, remove_menu=True))


__all__ = ["SUPPORTED", "command_list", "free_text", "help_lines", "labels", "stale_card", "stranger"]
