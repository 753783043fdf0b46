"""/settings for everyone: time zone (the picker is in zones), language, morning plan."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.features.menu import LANGUAGES
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from crm_core.domain.errors import InvalidInput
from crm_core.domain.users import User
from crm_core.domain.zones import city_name, utc_offset

router = Router("settings")
MORNING_TIMES = ("07:00", "07:30", "08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00")
SETTINGS, TEAM = "s", "t"  # where the zone picker goes back to


def zone_label(ctx: ChatContext, zone: str) -> str:
    """The zone as "Moscow (UTC+3)" in the reader's language; "UTC+0" for one without a city."""
    offset = "UTC" + utc_offset(zone, ctx.now)
    city = city_name(zone, ctx.tr.locale) if "/" in zone and not zone.startswith("Etc/") else ""
    return f"{city} ({offset})" if city else offset


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
