"""The CRM's refusals in the user's words: each error's code and each reason's code, translated."""

from __future__ import annotations

from bot.core.i18n import Html, Tr, h
from crm_core.domain.contacts import ContactShared
from crm_core.domain.errors import CrmError, ExtensionTaken, InvalidInput, OutOfDate, ReopensElsewhere, Why


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
    "month": N_("month"),
    "deals": N_("number of deals"),
}
# Why the core refused a value, by code: the chat's words for each (a test checks each is translated).
REASONS: dict[Why, str] = {
    Why.EMPTY: N_("it cannot be empty"),
    Why.NOT_AN_AMOUNT: N_("a positive number such as 1500 or 1 500,50"),
    Why.TWO_DECIMALS: N_("at most two decimals"),
    Why.TOO_LARGE: N_("too large"),
    Why.SEPARATORS: N_("the separators do not make a number"),
    Why.NEGATIVE: N_("it cannot be negative"),
    Why.TOO_LONG: N_("at most {most} characters"),
    Why.LENGTH: N_("1 to {most} characters"),
    Why.CURRENCY: N_("a three-letter ISO 4217 code such as USD"),
    Why.TIMEZONE: N_("an IANA name such as Europe/Moscow"),
    Why.ONE_OF: N_("one of {choices}"),
    Why.PRIORITY: N_("low, normal or high"),
    Why.NOT_A_PHONE: N_("it is not a phone number; type it with the country or area code"),
    Why.OTHERS_NUMBER: N_("it is another customer's number: give this deal its own contact"),
    Why.SEARCH: N_("type a name, a title or a phone number"),
    Why.SAME_STAGE: N_("the deal is already in this stage"),
    Why.OTHER_PIPELINE: N_("it belongs to another pipeline"),
    Why.NO_STAGE_THAT_WAY: N_("there is no stage that way"),
    Why.STARTS_OPEN: N_("a new deal starts in an open stage; close it afterwards"),
    Why.ARRIVES_OPEN: N_("a deal comes to another pipeline in an open stage; close it there afterwards"),
    Why.LOST_NEEDS_REASON: N_("a deal is lost for a reason"),
    Why.NOT_CLOSED: N_("it is not closed"),
    Why.UNCHANGED: N_("nothing changed"),
    Why.ALREADY_OWNER: N_("the deal already belongs there"),
    Why.USER_INACTIVE: N_("this user is deactivated"),
    Why.HAND_OVER: N_("an active user other than the one leaving"),
    Why.ALREADY_DONE: N_("it is already done"),
    Why.CANCELLED_BY_CLOSE: N_("it was cancelled when its deal was closed"),
    Why.IN_THE_PAST: N_("it is in the past"),
    Why.NOT_IN_FUTURE: N_("it must be in the future"),
    Why.DATE_PASSED: N_("that date has passed"),
    Why.TOO_FAR: N_("it is too far ahead"),
    Why.NO_TIME_ZONE: N_("give a time zone"),
    Why.TIME_FORMS: N_('say e.g. "in 2h", "tomorrow 10:00", "25.12 15:00" or "2026-12-25T15:00"'),
    Why.INVITE_UNUSABLE: N_("it has expired, been used or been revoked"),
    Why.INVITE_JUST_USED: N_("it has just been used"),
    Why.HIDDEN_CALLER: N_("the caller's number is hidden"),
    Why.NOT_VALID: N_("it is not valid"),
    Why.TEXT_EXPECTED: N_("a text is expected here"),
    Why.USE_BUTTONS: N_("use the buttons above"),
    Why.ROLE: N_("seller or boss"),
    Why.LAST_BOSS: N_("the team needs at least one active boss"),
    Why.CITY: N_("a city with a time zone of its own, or an IANA name such as Europe/Moscow"),
    Why.NOT_ANSWERED: N_("it was not answered"),
    Why.NO_DEAL_YET: N_("it is on no deal yet — create or attach one first"),
    Why.NOT_AN_OUTCOME: N_("it is not one of the outcomes"),
    Why.NOT_A_NUMBER: N_("a number such as 12 or 12.5"),
    Why.NOT_A_DATE: N_("a date such as 2026-12-25 or 25.12.2026"),
    Why.NOT_A_URL: N_("a web address such as https://example.com"),
    Why.YES_OR_NO: N_("yes or no"),
    Why.MONTH: N_("a month such as 2026-12"),
    Why.WHOLE_NUMBER: N_("a whole number from 1 to {most}"),
}
# Each refusal's sentence, by the error's code (a test checks every code of the core has one, translated).
MESSAGES: dict[str, str] = {
    "not_found": N_("Not found."),
    "form_not_found": N_("This web form was not found: its key is wrong, or the form was removed."),
    "deal_not_found": N_("This deal was not found — it may not be yours, or it no longer exists."),
    "not_allowed": N_("You are not allowed to do that."),
    "not_taken": N_("Nobody has taken this deal yet — take it first."),
    "invalid": N_("That {field} doesn't work."),
    "out_of_date": N_("This question is out of date — nothing was done. Use the newest one."),
    "stale": N_("This card is out of date — here is the current one."),
    "closed": N_("The deal is closed — reopen it first."),
    "reopens_elsewhere": N_("A closed deal reopens only in {stage}, where it was closed."),
    "conflict": N_("Someone was quicker: this has already been done."),
    "extension_taken": N_("Extension {ext} already belongs to {name}."),
    "call_refused": N_("Cannot call."),
    "unavailable": N_("The CRM is briefly unavailable. Please try again in a minute."),
    "contact_shared": N_("Change it for all of them, or give this deal its own contact?"),
    "seal_refused": N_("That call's notice was refused."),
    "import_refused": N_("The import was refused; nothing was changed."),
    "unreadable_csv": N_("That file cannot be read as CSV."),
    "fields_required": N_("The deal needs more of its fields filled in before that stage."),
    "unauthenticated": N_("That API token is missing, wrong, expired or revoked."),
    "idempotency_mismatch": N_("That idempotency key was already used for another request."),
    "idempotency_busy": N_("The same request is still being handled. Try again in a moment."),
}


def refusal_reason(error: InvalidInput, tr: Tr) -> Html:
    """Why a value was refused, in the user's words (English detail only for what has no code)."""
    if error.reason is not None:
        return tr(REASONS[error.reason], **error.params)
    return h(error.detail or "")


def explain(error: CrmError, tr: Tr) -> Html:
    """One short sentence saying what went wrong and what to do."""
    if isinstance(error, OutOfDate) and error.what == "summary":
        return tr("This summary is out of date — nothing was done. Use the newest one.")
    if isinstance(error, ExtensionTaken):
        return tr(MESSAGES[error.code], ext=error.extension, name=error.owner_name)
    if isinstance(error, ReopensElsewhere):
        return tr(MESSAGES[error.code], stage=tr(error.stage))
    if isinstance(error, ContactShared):
        shared = tr.ngettext(
            "{name} is the contact of {n} deal.",
            "{name} is the contact of {n} deals.",
            error.deal_count,
            name=error.name,
        )
        return Html(shared + " " + tr(MESSAGES[error.code]))
    if isinstance(error, InvalidInput):
        name = tr(FIELDS.get(error.field, error.field))
        why = refusal_reason(error, tr)
        if why:
            return tr("That {field} doesn't work: {reason}.", field=name, reason=why)
        return tr(MESSAGES[error.code], field=name)
    if error.code in MESSAGES:
        return tr(MESSAGES[error.code])
    return tr("That didn't work: {what}", what=str(error))
