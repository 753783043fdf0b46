"""/team and /invite (bosses): who sells what, their extensions and time zones, invitations, and
letting someone go."""

from __future__ import annotations

import re

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.dialogs import DeactivateQuestion, ExtensionsQuestion, InviteDraft
from bot.core.errors import explain
from bot.core.events import SharedContact, Text
from bot.core.features.settings import TEAM, zone_label
from bot.core.features.targets import seller_target_line, target_button
from bot.core.i18n import h
from bot.core.renderers import Outgoing
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from crm_core.domain import notifications as notes
from crm_core.domain.conversations import Dialog
from crm_core.domain.errors import CrmError, ExtensionTaken, InvalidInput, NotAllowed, NotFound, OutOfDate
from crm_core.domain.users import Role, User

router = Router("team")


def _boss(ctx: ChatContext) -> None:
    if not ctx.user.is_boss:
        raise NotAllowed("manage the team")


async def team_view(ctx: ChatContext) -> View:
    _boss(ctx)
    tr, crm = ctx.tr, ctx.crm
    rows = await crm.reports.sellers(actor=ctx.user, period=crm.reports.default_period(), every_pipeline=True)
    lines = [f"👥 <b>{tr('Team')}</b>", "<i>" + tr("open · won in 30 days · need a follow-up") + "</i>"]
    buttons = []
    for row in rows:
        stale = f" ⏰{row.stale_count}" if row.stale_count else ""
        lines.append(f"• {h(row.seller.name)}: {row.open_count} · {row.won_count} · {row.stale_count}")
        buttons.append(
            [
                Button.act(
                    f"{row.seller.name} · {row.open_count}/{row.won_count}{stale}",
                    A.TeamSeller(row.seller.id),
                )
            ]
        )
    invites = await crm.invites.pending(actor=ctx.user)
    if invites:
        lines += ["", tr("Pending invitations:")]
        for invite in invites:
            role = tr("boss") if invite.role is Role.BOSS else tr("seller")
            lines.append(f"✉️ {role} · " + tr("until {when}", when=tr.when(invite.expires_at, now=ctx.now)))
            buttons.append(
                [
                    Button.act(
                        "✖️ " + tr.label("Revoke the {role} invitation", role=role), A.InviteRevoke(invite.id)
                    )
                ]
            )
    buttons.append([Button.act("➕ " + tr("Invite someone"), A.InviteMenu())])
    return View.of(lines, buttons)


@router.command("team", boss=True)
async def on_team(ctx: ChatContext, args: str) -> Reply:
    """Show the sellers with their open, won and stale counts."""
    return Reply().send(await team_view(ctx))


@router.button(A.Team)
async def on_team_button(ctx: ChatContext, p: A.Team) -> Reply:
    return Reply().edit(ctx.message_id, await team_view(ctx))


async def _member(ctx: ChatContext, user_id: int) -> User:
    _boss(ctx)
    user = await ctx.crm.users.get(user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


async def seller_view(ctx: ChatContext, person: User, notice: str | None = None) -> View:
    """One member: their figures, extensions and time zone, their board, and letting them go."""
    tr = ctx.tr
    rows = await ctx.crm.reports.sellers(
        actor=ctx.user,
        period=ctx.crm.reports.default_period(),
        seller_telegram_id=person.telegram_id,
        every_pipeline=True,
    )
    lines = [f"👤 <b>{h(person.name)}</b>" + ("" if person.active else " · " + tr("deactivated"))]
    if notice:
        lines += [notice, ""]
    currency = ctx.crm.config.default_currency
    for row in rows:
        lines += [
            tr("Open: {n} · {amount}", n=row.open_count, amount=tr.money(row.open_amount, currency)),
            tr("Won in 30 days: {n} · {amount}", n=row.won_count, amount=tr.money(row.won_amount, currency)),
            tr("Lost in 30 days: {n}", n=row.lost_count),
            tr("Need a follow-up: {n}", n=row.stale_count),
        ]
    if person.active and not person.is_boss:
        lines.append(await seller_target_line(ctx, person))
    lines += [
        "☎️ " + tr("Extensions: {list}", list=", ".join(person.extensions) or tr("none")),
        "🕒 " + tr("Time zone: {zone}", zone=zone_label(ctx, person.timezone)),
    ]
    buttons = [[Button.act("📊 " + tr("Their board"), A.Board(person.telegram_id))]]
    if person.active and not person.is_boss:
        buttons[0].append(target_button(ctx, person))
    if person.active:
        buttons.append(
            [
                Button.act("☎️ " + tr("Extensions…"), A.TeamExtensions(person.id)),
                Button.act("🕒 " + tr("Time zone…"), A.ZoneMenu(person.id, TEAM)),
            ]
        )
    if person.active and person.id != ctx.user.id:
        buttons.append([Button.act("🚪 " + tr("Deactivate…"), A.DeactivateAsk(person.id))])
    buttons.append([Button.act("⬅ " + tr("Team"), A.Team())])
    return View.of(lines, buttons)


@router.button(A.TeamSeller)
async def on_seller(ctx: ChatContext, p: A.TeamSeller) -> Reply:
    """One seller: their figures, extensions and time zone, their board, and letting them go."""
    return Reply().edit(ctx.message_id, await seller_view(ctx, await _member(ctx, p.user_id)))


@router.button(A.TeamExtensions)
async def on_extensions(ctx: ChatContext, p: A.TeamExtensions) -> Reply:
    """Ask for the member's PBX extensions: the calls to them pop up in their chat."""
    person = await _member(ctx, p.user_id)
    state = ExtensionsQuestion(user_id=person.id, message_id=ctx.message_id)
    await ctx.crm.dialogs.put(ctx.user.telegram_id, state, step="answer")
    tr = ctx.tr
    lines = [
        "☎️ " + tr("Type {name}'s PBX extensions, e.g. 105 or 105, 106.", name=person.name),
        tr("They replace the current ones: {list}.", list=", ".join(person.extensions) or tr("none")),
        "<i>" + tr("Send - to remove them all, or /cancel to stop.") + "</i>",
    ]
    return Reply().edit(
        ctx.message_id, View.of(lines, [[Button.act("⬅ " + tr("Back"), A.TeamSeller(person.id))]])
    )


def typed_extensions(text: str) -> tuple[str, ...]:
    """Extensions as a boss types them: separated by spaces, commas or semicolons; "-" for none."""
    if text.strip() in ("-", "—", "0"):
        return ()
    return tuple(part for part in re.split(r"[\s,;]+", text) if part)


def _ask_again(ctx: ChatContext, error: CrmError) -> Reply:
    return Reply().send(View.of(["⚠️ " + explain(error, ctx.tr), ctx.tr("Type them again, or /cancel.")]))


@router.flow(ExtensionsQuestion.FLOW)
async def on_extensions_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """Give the member the typed extensions, or say why not (whose an extension is) and ask again."""
    person = await _member(ctx, dialog.state(ExtensionsQuestion).user_id)
    typed = event.text if isinstance(event, Text) else event.phone
    try:
        person = await ctx.crm.users.set_extensions(
            telegram_id=person.telegram_id, extensions=typed_extensions(typed), actor=ctx.user
        )
    except (InvalidInput, ExtensionTaken) as error:
        return _ask_again(ctx, error)
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    notice = "✅ " + ctx.tr("Extensions: {list}", list=", ".join(person.extensions) or ctx.tr("none"))
    return Reply().send(await seller_view(ctx, person, notice=notice))


@router.button(A.DeactivateAsk)
async def on_deactivate_ask(ctx: ChatContext, p: A.DeactivateAsk) -> Reply:
    """Ask who gets the leaving seller's open deals."""
    person = await _member(ctx, p.user_id)
    others = [u for u in await ctx.crm.users.list(actor=ctx.user, active=True) if u.id != person.id]
    asked = await ctx.crm.dialogs.put(
        ctx.user.telegram_id, DeactivateQuestion(user_id=person.id), step="confirm"
    )
    buttons = [Button.act(u.name, A.Deactivate(person.id, u.id, asked.draft)) for u in others]
    rows = [
        *[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
        [Button.act("∅ " + ctx.tr("Nobody (inbox)"), A.Deactivate(person.id, 0, asked.draft))],
        [Button.act("⬅ " + ctx.tr("Back"), A.TeamSeller(person.id))],
    ]
    text = ctx.tr("Deactivate {name}? Their open deals go to:", name=person.name)
    return Reply().edit(ctx.message_id, View.of([text], rows))


@router.button(A.Deactivate)
async def on_deactivate(ctx: ChatContext, p: A.Deactivate) -> Reply:
    """Deactivate a seller; their open deals go to the chosen colleague or to the inbox — only from the
    question last asked (an old one pressed again must not deactivate someone let back in since)."""
    person = await _member(ctx, p.user_id)
    asked = await ctx.crm.dialogs.confirmed(
        ctx.user.telegram_id, flow=DeactivateQuestion.FLOW, draft=p.draft, what="question"
    )
    if asked.state(DeactivateQuestion).user_id != person.id:
        raise OutOfDate("question")
    heir = await ctx.crm.users.get(p.heir_id) if p.heir_id else None
    if p.heir_id and heir is None:
        raise InvalidInput("new owner", p.heir_id)
    _, moved = await ctx.crm.users.deactivate(
        telegram_id=person.telegram_id, actor=ctx.user, hand_over_to=heir.telegram_id if heir else None
    )
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    text = ctx.tr.ngettext(
        "{name} is deactivated; {n} open deal handed over.",
        "{name} is deactivated; {n} open deals handed over.",
        moved,
        name=person.name,
    )
    return Reply().edit(
        ctx.message_id, View.of(["🚪 " + text], [[Button.act("⬅ " + ctx.tr("Team"), A.Team())]])
    )


@router.command("invite", boss=True)
async def on_invite(ctx: ChatContext, args: str) -> Reply:
    """Invite someone: pick the role (typing their extension first is optional), get a link."""
    extensions: tuple[str, ...] = ()
    if args.strip():
        try:
            extensions = await ctx.crm.invites.check_extensions(typed_extensions(args), actor=ctx.user)
        except (InvalidInput, ExtensionTaken) as error:
            return Reply().send(View.of(["⚠️ " + explain(error, ctx.tr)]))
    return Reply().send(await _invite_menu(ctx, extensions))


async def _invite_menu(ctx: ChatContext, extensions: tuple[str, ...] = ()) -> View:
    _boss(ctx)
    tr = ctx.tr
    asked = await ctx.crm.dialogs.put(ctx.user.telegram_id, InviteDraft(extensions=extensions), step="role")
    if extensions:
        lines = [
            tr("Invite a new…"),
            "☎️ " + tr("They get the extension {list}.", list=", ".join(extensions)),
        ]
    else:
        lines = [
            tr("Invite a new…"),
            "<i>" + tr("To give them a PBX extension, type it now (e.g. 105), then pick the role.") + "</i>",
        ]
    return View.of(
        lines,
        [
            [
                Button.act("🧑‍💼 " + tr("Seller"), A.Invite("seller", asked.draft)),
                Button.act("👑 " + tr("Boss"), A.Invite("boss", asked.draft)),
            ]
        ],
    )


@router.flow(InviteDraft.FLOW)
async def on_invite_extension(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """An extension typed at the invite menu: checked now, and the menu shown again with it."""
    typed = event.text if isinstance(event, Text) else event.phone
    try:
        extensions = await ctx.crm.invites.check_extensions(typed_extensions(typed), actor=ctx.user)
    except (InvalidInput, ExtensionTaken) as error:
        return _ask_again(ctx, error)
    return Reply().send(await _invite_menu(ctx, extensions))


@router.button(A.InviteMenu)
async def on_invite_menu(ctx: ChatContext, p: A.InviteMenu) -> Reply:
    return Reply().send(await _invite_menu(ctx))


@router.button(A.Invite)
async def on_invite_role(ctx: ChatContext, p: A.Invite) -> Reply:
    """Create a single-use invitation link for the chosen role — once per menu: a second press, or a
    press on an older menu, makes no second invitation."""
    try:
        role = Role(p.role)
    except ValueError:
        raise InvalidInput("role", p.role) from None
    _boss(ctx)
    asked = await ctx.crm.dialogs.confirmed(
        ctx.user.telegram_id, flow=InviteDraft.FLOW, draft=p.draft, what="question"
    )
    extensions = asked.state(InviteDraft).extensions
    invite = await ctx.crm.invites.create(role=role, actor=ctx.user, extensions=extensions)
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    link = f"https://t.me/{ctx.settings.bot_username}?start={invite.code}"
    tr = ctx.tr
    who = tr("boss") if role is Role.BOSS else tr("seller")
    lines = [
        tr("Send this link to the new {role}:", role=who),
        "",
        link,
        "",
        "<i>" + tr("It works once and expires in 7 days.") + "</i>",
    ]
    if invite.extensions:
        lines.insert(1, "☎️ " + tr("They get the extension {list}.", list=", ".join(invite.extensions)))
    return Reply().edit(ctx.message_id, View.of(lines))


async def invite_used(ctx: ChatContext, p: notes.InviteUsed) -> list[Outgoing]:
    """Tell the boss who made an invitation that it was used: who joined, as what."""
    tr = ctx.tr
    role = tr("boss") if p.role is Role.BOSS else tr("seller")
    lines = ["🎉 " + tr("{name} joined the team as a {role}.", name=p.name, role=role)]
    given, taken = list(p.extensions), list(p.taken)
    if given:
        lines.append("☎️ " + tr("Extensions: {list}", list=", ".join(given)))
    if taken:
        lines.append(
            "⚠️ " + tr("Extension {list} was given to someone else meanwhile.", list=", ".join(taken))
        )
    button = Button.act("👤 " + tr.label("{name}'s page", name=p.name), A.TeamSeller(p.user_id))
    return [View.of(lines, [[button]])]


@router.button(A.InviteRevoke)
async def on_revoke(ctx: ChatContext, p: A.InviteRevoke) -> Reply:
    await ctx.crm.invites.revoke(invite_id=p.invite_id, actor=ctx.user)
    return Reply().edit(ctx.message_id, await team_view(ctx)).answer(ctx.tr("Invitation revoked."))
