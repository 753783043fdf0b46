"""The time zone picker: one's own from /settings, a seller's from their page in /team (bosses)."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.events import SharedContact, Text
from bot.core.features.settings import SETTINGS, TEAM, settings_view, zone_label
from bot.core.features.team import seller_view
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from crm_core.domain.conversations import Dialog
from crm_core.domain.errors import InvalidInput, NotAllowed, NotFound
from crm_core.domain.users import User
from crm_core.domain.zones import city_name, common_zones, utc_offset

router = Router("zones")


async def _person(ctx: ChatContext, user_id: int) -> User:
    """The person whose zone is set: oneself, or (for a boss) a member of the team."""
    if user_id == ctx.user.id:
        return ctx.user
    if not ctx.user.is_boss:
        raise NotAllowed("change other people's settings")
    person = await ctx.crm.users.get(user_id)
    if person is None:
        raise NotFound("user", user_id)
    return person


def _back(ctx: ChatContext, person: User, where: str) -> Button:
    if where == TEAM:
        return Button.act("⬅ " + ctx.tr("Back"), A.TeamSeller(person.id))
    return Button.act("⬅ " + ctx.tr("Settings"), A.Settings())


@router.button(A.ZoneMenu)
async def on_zone_menu(ctx: ChatContext, p: A.ZoneMenu) -> Reply:
    """Offer the common zones of the person's language, or a typed city or IANA name."""
    person, where = await _person(ctx, p.user_id), p.back
    tr = ctx.tr
    zones = common_zones(person.locale)
    picks = [
        Button.act(
            ("• " if z == person.timezone else "") + f"{city_name(z, tr.locale)} {utc_offset(z, ctx.now)}",
            A.ZoneSet(person.id, z.replace("/", "."), where),
        )
        for z in zones
    ]
    await ctx.crm.dialogs.put(
        ctx.user.telegram_id,
        flow="zone",
        step="answer",
        data={"user_id": person.id, "where": where, "message_id": ctx.message_id},
    )
    whose = tr("your time zone") if person.id == ctx.user.id else tr("{name}'s time zone", name=person.name)
    lines = [
        "🕒 " + tr("Pick {whose}, or type a city or a name such as Europe/Moscow:", whose=whose),
        "<i>" + tr("Now: {zone}", zone=zone_label(ctx, person.timezone)) + "</i>",
    ]
    rows = [picks[i : i + 2] for i in range(0, len(picks), 2)]
    return Reply().edit(ctx.message_id, View.of(lines, [*rows, [_back(ctx, person, where)]]))


async def _set_zone(ctx: ChatContext, person: User, zone: str) -> User:
    if person.id == ctx.user.id:
        return await ctx.crm.users.update_preferences(actor=ctx.user, timezone=zone)
    return await ctx.crm.users.edit(telegram_id=person.telegram_id, timezone=zone, actor=ctx.user)


async def _after_zone(ctx: ChatContext, person: User, where: str) -> View:
    """Where the picker came from, redrawn with the new zone."""
    notice = "✅ " + ctx.tr("Time zone: {zone}", zone=zone_label(ctx, person.timezone))
    if where == TEAM and ctx.user.is_boss:
        return await seller_view(ctx, person, notice=notice)
    return await settings_view(ctx, notice=notice, user=person)


@router.button(A.ZoneSet)
async def on_zone_set(ctx: ChatContext, p: A.ZoneSet) -> Reply:
    """Set the picked zone (a forged one is refused by the core)."""
    zone = p.zone.replace(".", "/")  # a button's token has no "/"
    person = await _set_zone(ctx, await _person(ctx, p.user_id), zone)
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return Reply().edit(ctx.message_id, await _after_zone(ctx, person, p.back))


@router.flow("zone")
async def on_zone_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """A typed city or IANA name: set it, or say why not and ask again."""
    person = await _person(ctx, int(dialog.data["user_id"]))
    typed = event.text if isinstance(event, Text) else event.phone
    try:
        person = await _set_zone(ctx, person, typed)
    except InvalidInput:
        return Reply().send(
            View.of(
                [
                    "⚠️ " + ctx.tr("I don't know the time zone of {text}.", text=typed[:64]),
                    ctx.tr("Type a bigger city nearby, or a name such as Europe/Moscow."),
                ]
            )
        )
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return Reply().send(await _after_zone(ctx, person, str(dialog.data.get("where", SETTINGS))))
