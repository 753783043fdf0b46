"""Every button action the chat knows: its code on the wire and its named, typed fields (see ``codec``).

The codes and the order and kinds of the fields are the wire format of buttons already in users' chats
(``tests/unit/test_button_actions.py`` holds them): never change them, add an action instead. Retired
codes, never to be used again: "dg".
"""

from __future__ import annotations

from bot.core.codec import Action, Codec

# the menu, the board and its lists


class Noop(Action, code="no"):
    """A button that does nothing (a label in a keyboard)."""


class Menu(Action, code="mn"):
    """The main menu."""


class Board(Action, code="bd"):
    owner: int  # the seller's telegram id, 0 = everyone's deals


class BoardSellers(Action, code="bds"):
    """Choose whose board to see."""


class Column(Action, code="col"):
    stage_id: int
    owner: int  # as on the board
    order: str  # "n" newest first, "w" waiting longest


class ColumnPage(Action, code="colp"):
    stage_id: int
    owner: int
    order: str
    cursor: str  # "-" first: backwards


class MyDeals(Action, code="my"):
    page: str  # its number, digits


class BackToList(Action, code="bkl"):
    back: str  # the list a card was opened from: "my.2", "c.5.0.n[.cursor]", "mp.1"


# the deal card: a version is the one the user saw (an older one: the card changed meanwhile)


class Card(Action, code="cd"):
    deal_id: int


class CardFrom(Action, code="cdl"):
    deal_id: int
    back: str  # the list it was opened from (see BackToList)


class More(Action, code="mr"):
    deal_id: int
    back: str  # "" none


class Next(Action, code="nx"):
    deal_id: int
    version: int


class Prev(Action, code="pv"):
    deal_id: int
    version: int


class MoveMenu(Action, code="mvm"):
    deal_id: int
    version: int


class Move(Action, code="mv"):
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
    deal_id: int
    version: int
    reason: int  # its index in the lost reasons


class LostOther(Action, code="lso"):
    deal_id: int
    version: int


class Note(Action, code="nt"):
    deal_id: int
    version: int


class EditMenu(Action, code="edm"):
    deal_id: int
    version: int


class Edit(Action, code="ed"):
    deal_id: int
    version: int
    field: str  # "title", "amount"... or "priority"


class SetPriority(Action, code="pr"):
    deal_id: int
    version: int
    level: str  # a Priority's value


class SetField(Action, code="sf"):
    deal_id: int
    version: int
    key: str  # one of the team's own fields
    pick: int  # a choice's index, 1/0 for yes/no, a multi-choice's set of indexes as bits; -1: clear


class ToggleField(Action, code="tf"):
    deal_id: int
    version: int
    key: str
    mask: int  # the multi-choice's choices ticked so far, as bits


class History(Action, code="hs"):
    deal_id: int
    page: int


class Calls(Action, code="cl"):
    deal_id: int


class Listen(Action, code="lsn"):
    call_id: int  # send its recording


class ReassignMenu(Action, code="ram"):
    deal_id: int
    version: int


class Reassign(Action, code="ra"):
    deal_id: int
    version: int
    user_id: int  # 0 = nobody (the inbox)


class Take(Action, code="tk"):
    deal_id: int
    version: int


# reminders


class RemindMenu(Action, code="rmm"):
    deal_id: int
    version: int


class Remind(Action, code="rm"):
    deal_id: int
    version: int
    option: str  # when


class RemindTyped(Action, code="rmt"):
    deal_id: int
    version: int


class RemindKind(Action, code="rmk"):
    deal_id: int
    version: int
    kind: str  # what it is about: a TaskKind of REMINDER_KINDS


class RemindAt(Action, code="rma"):
    option: str  # when
    draft: int  # the dialog holds the deal, the kind, the words


class RemindWords(Action, code="rmw"):
    draft: int  # add a few words to the reminder


# tasks


class Tasks(Action, code="ts"):
    """The user's open tasks."""


class TasksPage(Action, code="tsp"):
    page: int


class TaskDone(Action, code="tdn"):
    task_id: int
    where: str  # "l<page>" the list, "n" a notification


class TaskSnooze(Action, code="tsz"):
    task_id: int
    option: str
    where: str  # as for TaskDone


# multi-step flows: each button carries the draft it confirms (see DialogService.confirmed)


class NewCreate(Action, code="ndc"):
    draft: int


class NewCancel(Action, code="ndx"):
    draft: int


class NewSkip(Action, code="nds"):
    draft: int


class WhenAt(Action, code="wa"):
    minutes: int  # a passed day's next-year date, in minutes since 1970
    draft: int


class ContactScopeChoice(Action, code="csc"):
    scope: str  # "all" deals of a shared contact or "this" deal alone
    draft: int


# reports, the team, settings


class Report(Action, code="rp"):
    period: str
    seller: int  # the seller's telegram id, 0 = the team


class ReportSellers(Action, code="rps"):
    period: str


class ReportCalls(Action, code="rpc"):
    period: str
    seller: int  # as for Report


class Team(Action, code="tm"):
    """The team page."""


class TeamSeller(Action, code="tms"):
    user_id: int


class TeamExtensions(Action, code="tmx"):
    user_id: int


class DeactivateAsk(Action, code="dea"):
    user_id: int


class Deactivate(Action, code="de"):
    user_id: int
    heir_id: int  # the user who gets the deals, 0 = nobody
    draft: int


class InviteMenu(Action, code="ivm"):
    """Invite someone: which role?"""


class Invite(Action, code="iv"):
    role: str
    draft: int


class InviteRevoke(Action, code="ivr"):
    invite_id: int


class Lang(Action, code="lg"):
    locale: str


class Settings(Action, code="st"):
    """The user's settings."""


class SettingsLang(Action, code="stl"):
    """The language picker from the settings."""


class ZoneMenu(Action, code="zm"):
    user_id: int
    back: str  # "s" the settings, "t" the seller's page


class ZoneSet(Action, code="zs"):
    user_id: int
    zone: str  # an IANA zone, "." for "/"
    back: str  # as for ZoneMenu


class Morning(Action, code="mo"):
    option: str  # "menu", "on", "off", "day" (when the working day begins), "tHHMM"


class DigestSet(Action, code="dgs"):
    option: str  # "menu", "on", "off", "mp0"/"mp1" (the morning plan), "tHHMM"


class Cancel(Action, code="cx"):
    """Stop the dialog in progress."""


# call pop-ups (telephony) and follow-ups


class CallBackDone(Action, code="cbd"):
    task_id: int


class CallCreate(Action, code="ccr"):
    call_id: int


class CallAttach(Action, code="cat"):
    call_id: int


class CallAttachTo(Action, code="catd"):
    call_id: int
    deal_id: int


class CallIgnore(Action, code="cig"):
    call_id: int


class Dial(Action, code="dl"):
    deal_id: int  # ring the seller, then the customer
    task_id: int  # the call-back it is for, 0 = none


class SetCallOutcome(Action, code="cou"):
    call_id: int
    outcome: str  # a CallOutcome's value


class SnoozeMenu(Action, code="szm"):
    deal_id: int
    version: int


class Snooze(Action, code="sz"):
    deal_id: int
    version: int
    option: str  # "1d", "3d", "1w" or "date"


class SnoozeDo(Action, code="szd"):
    draft: int  # snooze as the question says, without a reason


class Lower(Action, code="lw"):
    deal_id: int
    version: int


class Nudge(Action, code="ng"):
    deal_id: int


# the morning plan: a page of what is due; a task done or pushed from it


class PlanPage(Action, code="mpp"):
    page: int


class PlanTask(Action, code="mpt"):
    task_id: int
    option: str  # "d" done, "1h" an hour later, "tm" tomorrow morning
    page: int  # the plan's


# several funnels: which one the board, /new and /report are in, and moving a deal to another


class BoardFunnels(Action, code="bdf"):
    owner: int  # as on the board: choose the funnel whose board to see


class BoardIn(Action, code="bdp"):
    pipeline_id: int
    owner: int  # as for Board


class BoardSellersIn(Action, code="bdsp"):
    pipeline_id: int  # choose whose board of this funnel to see


class NewFunnel(Action, code="ndf"):
    draft: int
    pipeline_id: int  # the funnel the new deal opens in


class FunnelMenu(Action, code="fnm"):
    deal_id: int
    version: int  # the other funnels the deal may go to


class FunnelStages(Action, code="fns"):
    deal_id: int
    version: int
    pipeline_id: int  # that funnel's stages


class FunnelMove(Action, code="fnv"):
    deal_id: int
    version: int
    stage_id: int  # a stage of another funnel: the deal goes there


class ReportIn(Action, code="rpf"):
    period: str
    seller: int  # as for Report
    pipeline_id: int


class ReportSellersIn(Action, code="rpsf"):
    period: str
    pipeline_id: int


# sales targets: a boss sets a seller's month from their /team page


class TargetAsk(Action, code="tga"):
    user_id: int
    later: int  # 0 this month, 1 the next one


class TargetSkip(Action, code="tgs"):
    draft: int  # the question's: skipping the number of deals sets the target without one


# The actions the chat's codec reads back from buttons (see ``codec()``).
ACTIONS: tuple[type[Action], ...] = (
    Noop, Menu, Board, BoardSellers, Column, ColumnPage, MyDeals, BackToList, Card, CardFrom, More, Next,
    Prev, MoveMenu, Move, Won, LostMenu, Lost, LostOther, Note, EditMenu, Edit, SetPriority, SetField,
    ToggleField, History, Calls, Listen, ReassignMenu, Reassign, Take, RemindMenu, Remind, RemindTyped,
    RemindKind, RemindAt, RemindWords,
    Tasks, TasksPage, TaskDone, TaskSnooze, NewCreate, NewCancel, NewSkip, WhenAt, ContactScopeChoice,
    Report, ReportSellers, ReportCalls, Team, TeamSeller, TeamExtensions, DeactivateAsk, Deactivate,
    InviteMenu, Invite, InviteRevoke, Lang, Settings, SettingsLang, ZoneMenu, ZoneSet, Morning, DigestSet,
    Cancel, CallBackDone, CallCreate, CallAttach, CallAttachTo, CallIgnore, Dial, SetCallOutcome, SnoozeMenu,
    Snooze, SnoozeDo, Lower, Nudge, PlanPage, PlanTask, BoardFunnels, BoardIn, BoardSellersIn, NewFunnel,
    FunnelMenu, FunnelStages, FunnelMove, ReportIn, ReportSellersIn,
    TargetAsk, TargetSkip,
)  # fmt: skip


def codec() -> Codec:
    """The codec that reads every action the chat knows back from a button."""
    return Codec(ACTIONS)
