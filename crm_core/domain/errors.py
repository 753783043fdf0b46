"""What can go wrong in the CRM, as exceptions the edges turn into clear messages.

Each error carries a stable ``code`` and the values an edge needs to phrase it in the
user's language; ``str(error)`` is a plain English sentence for the CLI and the logs.
"""

from __future__ import annotations

import enum


class CrmError(Exception):
    """Base of every refusal the CRM gives: the request changed nothing."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class Why(enum.StrEnum):
    """Why a value was refused, as a code the edges translate; ``WHY_TEXT`` has its English."""

    EMPTY = "empty"
    NOT_AN_AMOUNT = "not_an_amount"
    TWO_DECIMALS = "two_decimals"
    TOO_LARGE = "too_large"
    SEPARATORS = "separators"
    NEGATIVE = "negative"
    TOO_LONG = "too_long"  # {most}
    LENGTH = "length"  # {most}
    CURRENCY = "currency"
    TIMEZONE = "timezone"
    ONE_OF = "one_of"  # {choices}
    PRIORITY = "priority"
    NOT_A_PHONE = "not_a_phone"
    OTHERS_NUMBER = "others_number"
    SEARCH = "search"
    SAME_STAGE = "same_stage"
    OTHER_PIPELINE = "other_pipeline"
    NO_STAGE_THAT_WAY = "no_stage_that_way"
    STARTS_OPEN = "starts_open"
    ARRIVES_OPEN = "arrives_open"
    LOST_NEEDS_REASON = "lost_needs_reason"
    NOT_CLOSED = "not_closed"
    UNCHANGED = "unchanged"
    ALREADY_OWNER = "already_owner"
    USER_INACTIVE = "user_inactive"
    HAND_OVER = "hand_over"
    ALREADY_DONE = "already_done"
    CANCELLED_BY_CLOSE = "cancelled_by_close"
    IN_THE_PAST = "in_the_past"
    NOT_IN_FUTURE = "not_in_future"
    DATE_PASSED = "date_passed"
    TOO_FAR = "too_far"
    NO_TIME_ZONE = "no_time_zone"
    TIME_FORMS = "time_forms"
    INVITE_UNUSABLE = "invite_unusable"
    INVITE_JUST_USED = "invite_just_used"
    HIDDEN_CALLER = "hidden_caller"
    NOT_VALID = "not_valid"
    TEXT_EXPECTED = "text_expected"
    USE_BUTTONS = "use_buttons"
    ROLE = "role"
    LAST_BOSS = "last_boss"
    CITY = "city"
    NOT_ANSWERED = "not_answered"
    NO_DEAL_YET = "no_deal_yet"
    NOT_AN_OUTCOME = "not_an_outcome"
    NOT_A_NUMBER = "not_a_number"
    NOT_A_DATE = "not_a_date"
    NOT_A_URL = "not_a_url"
    YES_OR_NO = "yes_or_no"
    MONTH = "month"
    WHOLE_NUMBER = "whole_number"  # {most}


WHY_TEXT: dict[Why, str] = {
    Why.EMPTY: "it cannot be empty",
    Why.NOT_AN_AMOUNT: "a positive number such as 1500 or 1 500,50",
    Why.TWO_DECIMALS: "at most two decimals",
    Why.TOO_LARGE: "too large",
    Why.SEPARATORS: "the separators do not make a number",
    Why.NEGATIVE: "it cannot be negative",
    Why.TOO_LONG: "at most {most} characters",
    Why.LENGTH: "1 to {most} characters",
    Why.CURRENCY: "a three-letter ISO 4217 code such as USD",
    Why.TIMEZONE: "an IANA name such as Europe/Moscow",
    Why.ONE_OF: "one of {choices}",
    Why.PRIORITY: "low, normal or high",
    Why.NOT_A_PHONE: "it is not a phone number; type it with the country or area code",
    Why.OTHERS_NUMBER: "it is another customer's number: give this deal its own contact",
    Why.SEARCH: "type a name, a title or a phone number",
    Why.SAME_STAGE: "the deal is already in this stage",
    Why.OTHER_PIPELINE: "it belongs to another pipeline",
    Why.NO_STAGE_THAT_WAY: "there is no stage that way",
    Why.STARTS_OPEN: "a new deal starts in an open stage; close it afterwards",
    Why.ARRIVES_OPEN: "a deal comes to another pipeline in an open stage; close it there afterwards",
    Why.LOST_NEEDS_REASON: "a deal is lost for a reason",
    Why.NOT_CLOSED: "it is not closed",
    Why.UNCHANGED: "nothing changed",
    Why.ALREADY_OWNER: "the deal already belongs there",
    Why.USER_INACTIVE: "this user is deactivated",
    Why.HAND_OVER: "an active user other than the one leaving",
    Why.ALREADY_DONE: "it is already done",
    Why.CANCELLED_BY_CLOSE: "it was cancelled when its deal was closed",
    Why.IN_THE_PAST: "it is in the past",
    Why.NOT_IN_FUTURE: "it must be in the future",
    Why.DATE_PASSED: "that date has passed",
    Why.TOO_FAR: "it is too far ahead",
    Why.NO_TIME_ZONE: "give a time zone",
    Why.TIME_FORMS: 'say e.g. "in 2h", "tomorrow 10:00", "25.12 15:00" or "2026-12-25T15:00"',
    Why.INVITE_UNUSABLE: "it has expired, been used or been revoked",
    Why.INVITE_JUST_USED: "it has just been used",
    Why.HIDDEN_CALLER: "the caller's number is hidden",
    Why.NOT_VALID: "it is not valid",
    Why.TEXT_EXPECTED: "a text is expected here",
    Why.USE_BUTTONS: "use the buttons above",
    Why.ROLE: "seller or boss",
    Why.LAST_BOSS: "the team needs at least one active boss",
    Why.CITY: "a city with a time zone of its own, or an IANA name such as Europe/Moscow",
    Why.NOT_ANSWERED: "it was not answered",
    Why.NO_DEAL_YET: "it is on no deal yet — create or attach one first",
    Why.NOT_AN_OUTCOME: "it is not one of the outcomes",
    Why.NOT_A_NUMBER: "a number such as 12 or 12.5",
    Why.NOT_A_DATE: "a date such as 2026-12-25 or 25.12.2026",
    Why.NOT_A_URL: "a web address such as https://example.com",
    Why.YES_OR_NO: "yes or no",
    Why.MONTH: "a month such as 2026-12",
    Why.WHOLE_NUMBER: "a whole number from 1 to {most}",
}


class NotFound(CrmError):
    code = "not_found"

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"No {what} {key} was found.", what=what, key=key)
        self.what, self.key = what, key


class DealNotFound(NotFound):
    """The deal does not exist, or the actor may not see it: the two look the same."""

    code = "deal_not_found"

    def __init__(self, deal_id: object) -> None:
        super().__init__("deal", deal_id)


class NotAllowed(CrmError):
    code = "not_allowed"

    def __init__(self, action: str) -> None:
        super().__init__(f"You are not allowed to {action}.", action=action)
        self.action = action


class NotTaken(NotAllowed):
    """The deal is in the inbox, nobody's yet: it is taken before it is worked on."""

    code = "not_taken"

    def __init__(self, action: str) -> None:
        super().__init__(f"{action} a deal nobody has taken yet — take it first")


class InvalidInput(CrmError):
    """A value refused: ``field`` names it, ``reason`` says why as a code (with its ``params``);
    ``detail`` is an English-only explanation for what only the CLI reads (a funnel file, a CSV)."""

    code = "invalid"

    def __init__(
        self,
        field: str,
        value: object,
        reason: Why | None = None,
        *,
        detail: str | None = None,
        **params: object,
    ) -> None:
        self.field, self.value, self.reason, self.params = field, value, reason, params
        self.detail = detail
        shown = repr(value) if not isinstance(value, str) or len(value) < 60 else repr(value[:57] + "...")
        why = self.why_text
        super().__init__(
            f"Invalid {field}: {shown}" + (f" ({why})." if why else "."), field=field, value=value
        )

    @property
    def why_text(self) -> str | None:
        """Why, in English: the reason's sentence, or the detail."""
        if self.reason is not None:
            return WHY_TEXT[self.reason].format(**self.params)
        return self.detail


class OutOfDate(CrmError):
    """A button of a multi-step flow (a summary's "Create", a question's "Skip") confirms a draft that
    has changed, ended or expired since it was shown: nothing is done."""

    code = "out_of_date"

    def __init__(self, what: str = "summary") -> None:
        super().__init__(f"This {what} is out of date; nothing was done.", what=what)
        self.what = what


class StaleVersion(CrmError):
    code = "stale"

    def __init__(self, deal_id: int) -> None:
        super().__init__(f"Deal {deal_id} changed meanwhile — reload it and try again.", deal_id=deal_id)
        self.deal_id = deal_id


class DealClosed(CrmError):
    code = "closed"

    def __init__(self, deal_id: int) -> None:
        super().__init__(f"Deal {deal_id} is closed; reopen it first.", deal_id=deal_id)
        self.deal_id = deal_id


class ReopensElsewhere(CrmError):
    """A closed deal goes back only to the stage it was won or lost from."""

    code = "reopens_elsewhere"

    def __init__(self, deal_id: int, stage: str) -> None:
        super().__init__(
            f"Deal {deal_id} is closed; it reopens in {stage}, where it was closed.",
            deal_id=deal_id,
            stage=stage,
        )
        self.deal_id, self.stage = deal_id, stage


class Conflict(CrmError):
    code = "conflict"


class Duplicate(Conflict):
    """Another transaction stored the same thing (a call, a contact's number) meanwhile: looking again
    finds it."""

    def __init__(self, cause: str = "") -> None:
        super().__init__("The same record was stored meanwhile; nothing was changed.", cause=cause)


class ExtensionTaken(Conflict):
    """A PBX extension rings one person: another active user already has it."""

    code = "extension_taken"

    def __init__(self, extension: str, owner_name: str) -> None:
        super().__init__(
            f"Extension {extension} already belongs to {owner_name}.", extension=extension, owner=owner_name
        )
        self.extension, self.owner_name = extension, owner_name


class Unavailable(CrmError):
    """The database cannot be reached right now; nothing was changed. Retrying later is safe."""

    code = "unavailable"

    def __init__(self, cause: str = "") -> None:
        super().__init__("The CRM's database is unavailable right now; try again in a minute.", cause=cause)
