"""The words the board page shows, in the user's language, from the chat's catalogs (bot/locales).

Templates keep their ``{placeholders}``: the page fills them with text, never as HTML.
"""

from __future__ import annotations

import html

from bot.core.i18n import Tr


def plain(text: str) -> str:
    """A translated text as plain text: ``Tr`` escapes for Telegram's HTML; the page sets textContent."""
    return html.unescape(text)


def page_texts(tr: Tr) -> dict[str, str]:
    """Every text of the page, by key."""
    texts = {
        "board": tr("Board"),
        "all_deals": tr("all deals"),
        "your_deals": tr("your deals"),
        "everyone": tr("Everyone"),
        "whose": tr("Whose board?"),
        "open_total": tr("{count} open · {amount}"),
        "no_deals": tr("No deals here."),
        "more": tr("{n} more — open this stage in the chat to see them all."),
        "in_stage": tr("{time} in stage"),
        "stale": tr("needs a follow-up"),
        "nobody": tr("nobody yet"),
        "history": tr("History"),
        "move_to": tr("Move to…"),
        "why_lost": tr("Why was it lost?"),
        "other": tr("Other"),
        "other_hint": tr("A few words about why"),
        "mark_lost": tr("Mark as lost"),
        "cancel": tr("Cancel"),
        "close": tr("Close"),
        "reload": tr("Reload"),
        "retry": tr("Try again"),
        "loading": tr("Loading…"),
        "moving": tr("Moving…"),
        "moved": tr("Moved to {stage}."),
        "reopened": tr("Reopened in {stage}."),
        "won": tr("Won! Well done."),
        "lost": tr("Marked as lost."),
        "reason": tr("Reason: {reason}"),
        "next_task": tr("Next step: {task} — {when}"),
        "snoozed": tr("Snoozed until {when}"),
        "created": tr("Created {when}"),
        "take_first": tr("Nobody has taken this deal yet — take it first."),
        "drag_hint": tr("Tap a card to move it, add a note or edit it; or hold it and drag it to a stage."),
        "reopen_in": tr("Reopen in {stage}"),
        "note": tr("Note"),
        "note_hint": tr("What happened? It goes in the deal's history."),
        "save_note": tr("Save"),
        "note_saved": tr("Note saved."),
        "edit_title": tr("Title"),
        "edit_amount": tr("Amount"),
        "add_amount": tr("+ Amount"),
        "save": tr("Save"),
        "saved": tr("Saved."),
        "offline": tr("No connection to Kanbot. Check the network and try again."),
        "open_in_telegram": tr("Open the board from the bot's chat in Telegram."),
        "funnel": tr("Which funnel?"),
        "another_funnel": tr("Another funnel…"),
        "moved_funnel": tr("Moved to the {pipeline} funnel, {stage}."),
    }
    return {key: plain(value) for key, value in texts.items()}


def unauthorized_text(accept_language: str) -> str:
    """Why a request without valid launch data is refused, in the browser's language if we speak it."""
    wanted = [part.split(";")[0].strip().lower()[:2] for part in accept_language.split(",")]
    locale = next((code for code in wanted if code in ("en", "ru", "ar")), "en")
    return plain(Tr(locale)("Open the board from the bot's chat in Telegram."))
