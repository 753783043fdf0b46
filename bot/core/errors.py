"""The CRM's refusals in the user's words."""

from __future__ import annotations

from bot.core.i18n import Html, Tr
from crm_core.domain.contacts import ContactShared
from crm_core.domain.errors import (
    Conflict,
    CrmError,
    DealClosed,
    DealNotFound,
    ExtensionTaken,
    InvalidInput,
    NotAllowed,
    NotFound,
    OutOfDate,
    ReopensElsewhere,
    StaleVersion,
    Unavailable,
)


def N_(message: str) -> str:
    return message


# Names of fields and reasons the core gives, marked for translation.
FIELDS = {
    "title": N_("title"),
    "amount": N_("amount"),
    "phone": N_("phone"),
    "name": N_("name"),
    "contact name": N_("contact name"),
    "currency": N_("currency"),
    "stage": N_("stage"),
    "lost reason": N_("lost reason"),
    "note": N_("note"),
    "due time": N_("time"),
    "snooze time": N_("time"),
    "task text": N_("task"),
    "priority": N_("priority"),
    "search": N_("search"),
    "owner": N_("owner"),
    "time": N_("time"),
    "invitation": N_("invitation"),
    "new owner": N_("new owner"),
    "task": N_("task"),
    "locale": N_("language"),
    "timezone": N_("time zone"),
    "company": N_("company"),
    "contact": N_("contact name"),
    "page": N_("page"),
    "period": N_("period"),
    "role": N_("role"),
    "setting": N_("setting"),
    "answer": N_("answer"),
    "cursor": N_("page"),
    "telegram id": N_("Telegram id"),
    "call": N_("call"),
    "field": N_("field"),
    "deal": N_("deal"),
    "extension": N_("extension"),
}
REASONS = [
    N_("it cannot be empty"),
    N_("a positive number such as 1500 or 1 500,50"),
    N_("at most two decimals"),
    N_("too large"),
    N_("the separators do not make a number"),
    N_("the deal is already in this stage"),
    N_("a deal is lost for a reason"),
    N_("it is in the past"),
    N_("it must be in the future"),
    N_("nothing changed"),
    N_("there is no stage that way"),
    N_("it has expired, been used or been revoked"),
    N_("it has just been used"),
    N_("it is already done"),
    N_("type a name, a title or a phone number"),
    N_("at most 100 characters"),
    N_("at most 200 characters"),
    N_("at most 3000 characters"),
    N_("this user is deactivated"),
    N_("the deal already belongs there"),
    N_("low, normal or high"),
    N_("a new deal starts in an open stage; close it afterwards"),
    N_("1 to 100 characters"),
    N_("an active user other than the one leaving"),
    N_("it is not valid"),
    N_("it is not a phone number; type it with the country or area code"),
    N_("the caller's number is hidden"),
    N_("it cannot be negative"),
    N_("give a time zone"),
    N_("a three-letter ISO 4217 code such as USD"),
    N_("an IANA name such as Europe/Moscow"),
    N_("it belongs to another pipeline"),
    N_("it is too far ahead"),
    N_("a text is expected here"),
    N_("use the buttons above"),
    N_("it is not closed"),
    N_("it was cancelled when its deal was closed"),
    N_("that date has passed"),
    N_("it is another customer's number: give this deal its own contact"),
    N_("seller or boss"),
    N_("the team needs at least one active boss"),
    N_("a city with a time zone of its own, or an IANA name such as Europe/Moscow"),
]


def explain(error: CrmError, tr: Tr) -> Html:
    """One short sentence saying what went wrong and what to do."""
    if isinstance(error, DealNotFound):
        return tr("This deal was not found — it may not be yours, or it no longer exists.")
    if isinstance(error, NotFound):
        return tr("Not found.")
    if isinstance(error, NotAllowed):
        if "take it first" in error.action:
            return tr("Nobody has taken this deal yet — take it first.")
        return tr("You are not allowed to do that.")
    if isinstance(error, StaleVersion):
        return tr("This card is out of date — here is the current one.")
    if isinstance(error, ReopensElsewhere):
        return tr("A closed deal reopens only in {stage}, where it was closed.", stage=tr(error.stage))
    if isinstance(error, OutOfDate):
        if error.what == "summary":
            return tr("This summary is out of date — nothing was done. Use the newest one.")
        return tr("This question is out of date — nothing was done. Use the newest one.")
    if isinstance(error, ContactShared):
        shared = tr.ngettext(
            "{name} is the contact of {n} deal.",
            "{name} is the contact of {n} deals.",
            error.deal_count,
            name=error.name,
        )
        return Html(shared + " " + tr("Change it for all of them, or give this deal its own contact?"))
    if isinstance(error, DealClosed):
        return tr("The deal is closed — reopen it first.")
    if isinstance(error, InvalidInput):
        name = tr(FIELDS.get(error.field, error.field))
        if error.reason:
            return tr("That {field} doesn't work: {reason}.", field=name, reason=tr(error.reason))
        return tr("That {field} doesn't work.", field=name)
    if isinstance(error, Unavailable):
        return tr("The CRM is briefly unavailable. Please try again in a minute.")
    if isinstance(error, ExtensionTaken):
        return tr("Extension {ext} already belongs to {name}.", ext=error.extension, name=error.owner_name)
    if isinstance(error, Conflict):
        return tr("Someone was quicker: this has already been done.")
    return tr("That didn't work: {what}", what=str(error))
