"""Every button action the chat knows: its code on the wire and its named, typed fields (see ``codec``).

The codes and the fields' order are the wire format of buttons already in users' chats: never change
them; add a new action instead. Retired codes, not to be used again: "dg".
"""

from __future__ import annotations

from bot.core.codec import Action, Codec


class Noop(Action, code="no"):
    pass


class Menu(Action, code="mn"):
    pass


# the board and its columns: owner filter (telegram id, 0 = all), stage, order, page cursor


class Board(Action, code="bd"):
    owner: int


class BoardSellers(Action, code="bds"):
    pass


class Column(Action, code="col"):
    """Stage id, owner filter, order ("n" newest, "w" waiting)."""

    stage_id: int
    owner: int
    order: str


class ColumnPage(Action, code="colp"):
    """... plus a cursor, "-" prefix = backwards."""

    stage_id: int
    owner: int
    order: str
    cursor: str


class MyDeals(Action, code="my"):
    """Cursor ("" first page)."""

    page: str


# the deal card


class Card(Action, code="cd"):
    deal_id: int


class CardFrom(Action, code="cdl"):
    """Deal id, the list it was opened from ("my.2", "c.5.0.n[.cursor]")."""

    deal_id: int
    back: str


class More(Action, code="mr"):
    """The card's less frequent buttons: deal id, the list it came from ("" none)."""

    deal_id: int
    back: str


class BackToList(Action, code="bkl"):
    """The list a card was opened from."""

    back: str


class Next(Action, code="nx"):
    """Deal id, version."""

    deal_id: int
    version: int


class Prev(Action, code="pv"):
    deal_id: int
    version: int


class MoveMenu(Action, code="mvm"):
    deal_id: int
    version: int


class Move(Action, code="mv"):
    """Deal id, version, stage id."""

    deal_id: int
    version: int
    stage_id: int


class Won(Action, code="won"):
    deal_id: int
    version: int


class LostMenu(Action, code="lsm"):
    deal_id: int
    version: int


class Lost(Action, code="ls"):
    """Deal id, version, reason id in the list (index)."""

    deal_id: int
    version: int
    reason: int


class LostOther(Action, code="lso"):
    deal_id: int
    version: int


class Note(Action, code="nt"):
    deal_id: int
    version: int


class RemindMenu(Action, code="rmm"):
    deal_id: int
    version: int


class Remind(Action, code="rm"):
    """Deal id, version, option."""

    deal_id: int
    version: int
    option: str


class RemindTyped(Action, code="rmt"):
    deal_id: int
    version: int


class RemindKind(Action, code="rmk"):
    """Deal id, version, what it is about (a TaskKind of REMINDER_KINDS)."""

    deal_id: int
    version: int
    kind: str


class RemindAt(Action, code="rma"):
    """The time option, draft (the dialog holds the deal, the kind, the words)."""

    option: str
    draft: int


class RemindWords(Action, code="rmw"):
    """Draft: add a few words to the reminder."""

    draft: int


class EditMenu(Action, code="edm"):
    deal_id: int
    version: int


class Edit(Action, code="ed"):
    """Deal id, version, field."""

    deal_id: int
    version: int
    field: str


class SetPriority(Action, code="pr"):
    """Deal id, version, level."""

    deal_id: int
    version: int
    level: str


class History(Action, code="hs"):
    """Deal id, page."""

    deal_id: int
    page: int


class Calls(Action, code="cl"):
    deal_id: int


class Listen(Action, code="lsn"):
    """Call id: send its recording."""

    call_id: int


class ReassignMenu(Action, code="ram"):
    deal_id: int
    version: int


class Reassign(Action, code="ra"):
    """Deal id, version, user id (0 = nobody)."""

    deal_id: int
    version: int
    user_id: int


class Take(Action, code="tk"):
    deal_id: int
    version: int


# tasks


class Tasks(Action, code="ts"):
    pass


class TasksPage(Action, code="tsp"):
    """Page."""

    page: int


class TaskDone(Action, code="tdn"):
    """Task id, where the button is ("l<page>" the list, "n" a notification)."""

    task_id: int
    where: str


class TaskSnooze(Action, code="tsz"):
    """Task id, option, where."""

    task_id: int
    option: str
    where: str


# multi-step flows: each button carries the draft it confirms (see DialogService.confirmed)


class NewCreate(Action, code="ndc"):
    """Draft."""

    draft: int


class NewCancel(Action, code="ndx"):
    """Draft."""

    draft: int


class NewSkip(Action, code="nds"):
    """Draft."""

    draft: int


class WhenAt(Action, code="wa"):
    """A passed day's next-year date (minutes since 1970), draft."""

    minutes: int
    draft: int


class ContactScopeChoice(Action, code="csc"):
    """ "all" deals of a shared contact or "this" deal alone, draft."""

    scope: str
    draft: int


# reports and team


class Report(Action, code="rp"):
    """Period, seller telegram id (0 = team)."""

    period: str
    seller: int


class ReportSellers(Action, code="rps"):
    period: str


class ReportCalls(Action, code="rpc"):
    """Period, seller telegram id (0 = team)."""

    period: str
    seller: int


class Team(Action, code="tm"):
    pass


class TeamSeller(Action, code="tms"):
    """User id."""

    user_id: int


class DeactivateAsk(Action, code="dea"):
    user_id: int


class Deactivate(Action, code="de"):
    """User id, heir user id (0 = nobody), draft."""

    user_id: int
    heir_id: int
    draft: int


class InviteMenu(Action, code="ivm"):
    pass


class Invite(Action, code="iv"):
    """Role, draft."""

    role: str
    draft: int


class InviteRevoke(Action, code="ivr"):
    invite_id: int


class Lang(Action, code="lg"):
    locale: str


class Settings(Action, code="st"):
    pass


class SettingsLang(Action, code="stl"):
    pass


class ZoneMenu(Action, code="zm"):
    """User id, where to go back ("s" settings, "t" the seller's page)."""

    user_id: int
    back: str


class ZoneSet(Action, code="zs"):
    """User id, IANA zone with "." for "/", where."""

    user_id: int
    zone: str
    back: str


class Morning(Action, code="mo"):
    """ "menu", "on", "off", "day" (when the working day begins), "tHHMM"."""

    option: str


class TeamExtensions(Action, code="tmx"):
    """User id."""

    user_id: int


class Cancel(Action, code="cx"):
    pass


# call pop-ups (telephony) and follow-ups


class CallBackDone(Action, code="cbd"):
    """Task id."""

    task_id: int


class CallCreate(Action, code="ccr"):
    """Call id."""

    call_id: int


class CallAttach(Action, code="cat"):
    """Call id."""

    call_id: int


class CallAttachTo(Action, code="catd"):
    """Call id, deal id."""

    call_id: int
    deal_id: int


class CallIgnore(Action, code="cig"):
    """Call id."""

    call_id: int


class Dial(Action, code="dl"):
    """Deal id, call-back task id (0 = none): ring the seller, then the customer."""

    deal_id: int
    task_id: int


class SetCallOutcome(Action, code="cou"):
    """Call id, outcome."""

    call_id: int
    outcome: str


class SnoozeMenu(Action, code="szm"):
    """Deal id, version."""

    deal_id: int
    version: int


class Snooze(Action, code="sz"):
    """Deal id, version, option."""

    deal_id: int
    version: int
    option: str


class SnoozeDo(Action, code="szd"):
    """Draft: snooze as the question says, without a reason."""

    draft: int


class Lower(Action, code="lw"):
    deal_id: int
    version: int


class Nudge(Action, code="ng"):
    """Deal id."""

    deal_id: int


class DigestSet(Action, code="dgs"):
    option: str


# the morning plan: a page of what is due; a task done or pushed from it (task id, option, the plan's page)


class PlanPage(Action, code="mpp"):
    page: int


class PlanTask(Action, code="mpt"):
    """Option: "d" done, "1h" an hour later, "tm" tomorrow morning."""

    task_id: int
    option: str
    page: int


ACTIONS: tuple[type[Action], ...] = (
    Noop,
    Menu,
    Board,
    BoardSellers,
    Column,
    ColumnPage,
    MyDeals,
    Card,
    CardFrom,
    More,
    BackToList,
    Next,
    Prev,
    MoveMenu,
    Move,
    Won,
    LostMenu,
    Lost,
    LostOther,
    Note,
    RemindMenu,
    Remind,
    RemindTyped,
    RemindKind,
    RemindAt,
    RemindWords,
    EditMenu,
    Edit,
    SetPriority,
    History,
    Calls,
    Listen,
    ReassignMenu,
    Reassign,
    Take,
    Tasks,
    TasksPage,
    TaskDone,
    TaskSnooze,
    NewCreate,
    NewCancel,
    NewSkip,
    WhenAt,
    ContactScopeChoice,
    Report,
    ReportSellers,
    ReportCalls,
    Team,
    TeamSeller,
    DeactivateAsk,
    Deactivate,
    InviteMenu,
    Invite,
    InviteRevoke,
    Lang,
    Settings,
    SettingsLang,
    ZoneMenu,
    ZoneSet,
    Morning,
    TeamExtensions,
    Cancel,
    CallBackDone,
    CallCreate,
    CallAttach,
    CallAttachTo,
    CallIgnore,
    Dial,
    SetCallOutcome,
    SnoozeMenu,
    Snooze,
    SnoozeDo,
    Lower,
    Nudge,
    DigestSet,
    PlanPage,
    PlanTask,
)


def codec() -> Codec:
    """The codec that reads every action the chat knows back from a button."""
    return Codec(ACTIONS)
