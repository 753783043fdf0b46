"""Every button action the chat knows, with the kinds of its arguments (see ``codec``)."""

from __future__ import annotations

from bot.core.codec import action

NOOP = action("no")
MENU = action("mn")
# the board and its columns: owner filter (telegram id, 0 = all), stage, order, page cursor
BOARD = action("bd", "i")
BOARD_SELLERS = action("bds")
COLUMN = action("col", "iis")  # stage id, owner filter, order ("n" newest, "w" waiting)
COLUMN_PAGE = action("colp", "iiss")  # ... plus a cursor, "-" prefix = backwards
MY_DEALS = action("my", "s")  # cursor ("" first page)
# the deal card
CARD = action("cd", "i")
CARD_FROM = action("cdl", "is")  # deal id, the list it was opened from ("my.2", "c.5.0.n[.cursor]")
MORE = action("mr", "is")  # the card's less frequent buttons: deal id, the list it came from ("" none)
BACK_TO_LIST = action("bkl", "s")  # the list a card was opened from
NEXT = action("nx", "ii")  # deal id, version
PREV = action("pv", "ii")
MOVE_MENU = action("mvm", "ii")
MOVE = action("mv", "iii")  # deal id, version, stage id
WON = action("won", "ii")
LOST_MENU = action("lsm", "ii")
LOST = action("ls", "iii")  # deal id, version, reason id in the list (index)
LOST_OTHER = action("lso", "ii")
NOTE = action("nt", "ii")
REMIND_MENU = action("rmm", "ii")
REMIND = action("rm", "iis")  # deal id, version, option
REMIND_TYPED = action("rmt", "ii")
REMIND_KIND = action("rmk", "iis")  # deal id, version, what it is about (a TaskKind of REMINDER_KINDS)
REMIND_AT = action("rma", "si")  # the time option, draft (the dialog holds the deal, the kind, the words)
REMIND_WORDS = action("rmw", "i")  # draft: add a few words to the reminder
EDIT_MENU = action("edm", "ii")
EDIT = action("ed", "iis")  # deal id, version, field
PRIORITY = action("pr", "iis")  # deal id, version, level
HISTORY = action("hs", "ii")  # deal id, page
CALLS = action("cl", "i")
LISTEN = action("lsn", "i")  # call id: send its recording
REASSIGN_MENU = action("ram", "ii")
REASSIGN = action("ra", "iii")  # deal id, version, user id (0 = nobody)
TAKE = action("tk", "ii")
# tasks
TASKS = action("ts")
TASKS_PAGE = action("tsp", "i")  # page
TASK_DONE = action("tdn", "is")  # task id, where the button is ("l<page>" the list, "n" a notification)
TASK_SNOOZE = action("tsz", "iss")  # task id, option, where
# multi-step flows: each button carries the draft it confirms (see DialogService.confirmed)
NEW_CREATE = action("ndc", "i")  # draft
NEW_CANCEL = action("ndx", "i")  # draft
NEW_SKIP = action("nds", "i")  # draft
WHEN_AT = action("wa", "ii")  # a passed day's next-year date (minutes since 1970), draft
CONTACT_SCOPE = action("csc", "si")  # "all" deals of a shared contact or "this" deal alone, draft
# reports and team
REPORT = action("rp", "si")  # period, seller telegram id (0 = team)
REPORT_SELLERS = action("rps", "s")
REPORT_CALLS = action("rpc", "si")  # period, seller telegram id (0 = team)
TEAM = action("tm")
TEAM_SELLER = action("tms", "i")  # user id
DEACTIVATE_ASK = action("dea", "i")
DEACTIVATE = action("de", "iii")  # user id, heir user id (0 = nobody), draft
INVITE_MENU = action("ivm")
INVITE = action("iv", "si")  # role, draft
INVITE_REVOKE = action("ivr", "i")
LANG = action("lg", "s")
SETTINGS = action("st")
SETTINGS_LANG = action("stl")
ZONE_MENU = action("zm", "is")  # user id, where to go back ("s" settings, "t" the seller's page)
ZONE_SET = action("zs", "iss")  # user id, IANA zone with "." for "/", where
MORNING = action("mo", "s")  # "menu", "on", "off", "day" (when the working day begins), "tHHMM"
TEAM_EXT = action("tmx", "i")  # user id
CANCEL = action("cx")
# call pop-ups (telephony) and follow-ups
CALL_BACK_DONE = action("cbd", "i")  # task id
CALL_CREATE = action("ccr", "i")  # call id
CALL_ATTACH = action("cat", "i")  # call id
CALL_ATTACH_TO = action("catd", "ii")  # call id, deal id
CALL_IGNORE = action("cig", "i")  # call id
DIAL = action("dl", "ii")  # deal id, call-back task id (0 = none): ring the seller, then the customer
CALL_OUTCOME = action("cou", "is")  # call id, outcome
SNOOZE_MENU = action("szm", "ii")  # deal id, version
SNOOZE = action("sz", "iis")  # deal id, version, option
SNOOZE_DO = action("szd", "i")  # draft: snooze as the question says, without a reason
LOWER = action("lw", "ii")
NUDGE = action("ng", "i")  # deal id
DIGEST = action("dg", "s")
DIGEST_SET = action("dgs", "s")
# the morning plan: a page of what is due; a task done or pushed from it (task id, option, the plan's page)
PLAN_PAGE = action("mpp", "i")
PLAN_TASK = action("mpt", "isi")  # option: "d" done, "1h" an hour later, "tm" tomorrow morning
