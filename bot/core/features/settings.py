"""/settings for everyone (time zone, language, morning plan), and the time zone picker a boss also
opens from a seller's page in /team."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.events import SharedContact, Text
from bot.core.features.menu import LANGUAGES
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from crm_core.domain.conversations import Dialog
from crm_core.domain.errors import InvalidInput, NotAllowed, NotFound
from crm_core.domain.users import User
from crm_core.domain.zones import city_name, common_zones, utc_offset

router = Router("settings")
MORNING_TIMES = ("07:00", "07:30", "08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00")
SETTINGS, TEAM = "s", "t"  # where the zone picker goes back to


def zone_label(ctx: ChatContext, zone: str) -> str:
    """The zone as "Moscow (UTC+3)" in the reader's language; "UTC+0" for one without a city."""
    offset = "UTC" + utc_offset(zone, ctx.now)
    city = city_name(zone, ctx.tr.locale) if "/" in zone and not zone.startswith("Etc/") else ""
    return f"{city} ({offset})" if city else offset


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


async def settings_view(ctx: ChatContext, notice: str | None = None, user: User | None = None) -> View:
    tr, user = ctx.tr, user or ctx.user
    prefs = await ctx.crm.followups.preferences(actor=user)
    lines = [f"⚙️ <b>{tr('Settings')}</b>"] + ([notice, ""] if notice else [])
    lines += [
        "🕒 " + tr("Time zone: {zone}", zone=zone_label(ctx, user.timezone)),
        "🌐 " + tr("Language: {language}", language=LANGUAGES.get(user.locale, user.locale)),
    ]
    buttons = [
        [
            Button.act("🕒 " + tr("Time zone…"), A.ZoneMenu(user.id, SETTINGS)),
            Button.act("🌐 " + tr("Language…"), A.SettingsLang()),
        ]
    ]
    if user.is_boss:
        lines.append("🕘 " + tr("Digest time: {time}", time=prefs.digest_time))
        buttons.append([Button.act("🕘 " + tr("Digest…"), A.DigestSet("menu"))])
    else:
        lines.append("☀️ " + morning_line(ctx, prefs.morning_plan_enabled, prefs.morning_time))
        buttons.append([Button.act("☀️ " + tr("Morning plan…"), A.Morning("menu"))])
    return View.of(lines, buttons)


def morning_line(ctx: ChatContext, enabled: bool, at: str | None) -> str:
    tr = ctx.tr
    if not enabled:
        return tr("Morning plan: off")
    if at is None:
        return tr("Morning plan: when the working day begins")
    return tr("Morning plan: at {time}", time=at)


@router.command("settings")
async def on_settings(ctx: ChatContext, args: str) -> Reply:
    """Show one's time zone, language and morning plan, with buttons to change them."""
    return Reply().send(await settings_view(ctx))


@router.button(A.Settings)
async def on_settings_button(ctx: ChatContext, p: A.Settings) -> Reply:
    return Reply().edit(ctx.message_id, await settings_view(ctx))


@router.button(A.SettingsLang)
async def on_settings_lang(ctx: ChatContext, p: A.SettingsLang) -> Reply:
    """The language buttons of /lang (a choice sends the menu in the new language)."""
    buttons = [
        [
            Button.act(("• " if code == ctx.user.locale else "") + name, A.Lang(code))
            for code, name in LANGUAGES.items()
        ],
        [Button.act("⬅ " + ctx.tr("Settings"), A.Settings())],
    ]
    return Reply().edit(ctx.message_id, View.of([ctx.tr("Choose your language:")], buttons))


# -- the time zone picker -------------------------------------------------------------------------


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
        from bot.core.features.team import seller_view

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


# -- the morning plan -----------------------------------------------------------------------------


@router.button(A.Morning)
async def on_morning(ctx: ChatContext, p: A.Morning) -> Reply:
    """The morning plan on or off, and when it comes: a time, or when the working day begins."""
    option, tr = p.option, ctx.tr
    notice = None
    if option != "menu":
        if option in ("on", "off"):
            prefs = await ctx.crm.followups.set_preferences(actor=ctx.user, morning_plan=option == "on")
        elif option == "day" or (option[:1] == "t" and option[1:].isdigit() and len(option) == 5):
            at = "" if option == "day" else f"{option[1:3]}:{option[3:]}"
            prefs = await ctx.crm.followups.set_preferences(
                actor=ctx.user, morning_plan=True, morning_time=at
            )
        else:
            raise InvalidInput("setting", option)
        notice = "✅ " + morning_line(ctx, prefs.morning_plan_enabled, prefs.morning_time)
    prefs = await ctx.crm.followups.preferences(actor=ctx.user)
    lines = [
        "☀️ " + tr("Each working morning I send you your day: tasks, deals to follow up, your funnel."),
        morning_line(ctx, prefs.morning_plan_enabled, prefs.morning_time),
    ] + ([notice] if notice else [])
    switch = (
        Button.act("🔕 " + tr("Turn off"), A.Morning("off"))
        if prefs.morning_plan_enabled
        else Button.act("🔔 " + tr("Turn on"), A.Morning("on"))
    )
    marked = prefs.morning_time if prefs.morning_plan_enabled else "-"
    times = [
        Button.act(("• " if t == marked else "") + t, A.Morning("t" + t.replace(":", "")))
        for t in MORNING_TIMES
    ]
    day = ("• " if prefs.morning_plan_enabled and marked is None else "") + tr("When the day begins")
    rows = [
        [switch],
        *[times[i : i + 3] for i in range(0, len(times), 3)],
        [Button.act(day, A.Morning("day"))],
        [Button.act("⬅ " + tr("Settings"), A.Settings())],
    ]
    return Reply().edit(ctx.message_id, View.of(lines, rows))


__all__ = ["router", "settings_view", "zone_label"]
