"""What can go wrong in the CRM, as exceptions the edges turn into clear messages.

Each error carries a stable ``code`` and the values an edge needs to phrase it in the
user's language; ``str(error)`` is a plain English sentence for the CLI and the logs.
"""

from __future__ import annotations


class CrmError(Exception):
    """Base of every refusal the CRM gives: the request changed nothing."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class NotFound(CrmError):
    code = "not_found"

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"No {what} {key} was found.", what=what, key=key)
        self.what, self.key = what, key


class DealNotFound(NotFound):
    """The deal does not exist, or the actor may not see it: the two look the same."""

    def __init__(self, deal_id: object) -> None:
        super().__init__("deal", deal_id)


class NotAllowed(CrmError):
    code = "not_allowed"

    def __init__(self, action: str) -> None:
        super().__init__(f"You are not allowed to {action}.", action=action)
        self.action = action


class InvalidInput(CrmError):
    code = "invalid"

    def __init__(self, field: str, value: object, reason: str | None = None) -> None:
        shown = repr(value) if not isinstance(value, str) or len(value) < 60 else repr(value[:57] + "...")
        text = f"Invalid {field}: {shown}" + (f" ({reason})." if reason else ".")
        super().__init__(text, field=field, value=value, reason=reason)
        self.field, self.value, self.reason = field, value, reason


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
