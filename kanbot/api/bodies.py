"""The REST API's request bodies, as pydantic models: they validate the requests and describe them in
the OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

TELEGRAM_ID = Annotated[StrictInt, Field(ge=1, le=2**53)]
MAX_ID = 2**31 - 1
Ref = Annotated[StrictStr, Field(max_length=64)] | Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
FieldValue = StrictStr | StrictInt | StrictFloat | StrictBool | list[StrictStr] | None


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Contact")

    name: StrictStr | None = Field(None, description="The customer's name.")
    phone: StrictStr | None = Field(None, description="The customer's phone, any format.")


class DealIn(BaseModel):
    """A new deal, as `kanbot deal add` takes it."""

    model_config = ConfigDict(extra="forbid", title="NewDeal")

    title: StrictStr = Field(description="What the deal is.")
    amount: StrictStr | StrictInt | StrictFloat | None = Field(
        None, description='E.g. 1500.50 or "1 500,50".'
    )
    currency: StrictStr | None = Field(None, description="ISO 4217 code; the team's default otherwise.")
    pipeline: Ref | None = Field(None, description="Pipeline name or id (default one).")
    stage: Ref | None = Field(None, description="Stage name or id (default: the inbox).")
    owner_telegram_id: TELEGRAM_ID | None = Field(None, description="The owner (bosses only; default: you).")
    contact: ContactIn | None = None
    fields: dict[StrictStr, FieldValue] | None = Field(None, description="The team's own fields, by key.")

    @field_validator("pipeline", "stage")
    @classmethod
    def _a_reference(cls, value: str | int | None) -> str | int | None:
        return _ref(value)

    def field_texts(self) -> dict[str, str]:
        """The own fields as the services take them: text, as typed in the chat or the CLI."""
        return {key: field_text(value) for key, value in (self.fields or {}).items()}


def _ref(value: str | int | None) -> str | int | None:
    if isinstance(value, str) and value.strip().isdigit() and int(value) > MAX_ID:
        raise ValueError(f"an id from 1 to {MAX_ID}, or a name")
    return value


def field_text(value: FieldValue) -> str:
    """An own field's JSON value as the services take it: text, as typed in the chat or the CLI."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def reference(text: str | None, field: str) -> str | None:
    """A pipeline's or a stage's name or id from a query; a problem's reason when it cannot be one."""
    if text is None:
        return None
    if len(text) > 64 or (text.strip().isdigit() and int(text) > MAX_ID):
        return f"{field}: a name of at most 64 characters, or an id"
    return None


def nul_in(data: object, path: str = "") -> str | None:
    """Where ``data`` holds a NUL character (no text may): the field's path, else None."""
    if isinstance(data, str):
        return path or "body" if "\x00" in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where
            found = nul_in(value, where)
            if found:
                return found
    if isinstance(data, list):
        for value in data:
            found = nul_in(value, path)
            if found:
                return found
    return None


def first_problem(error: ValidationError) -> tuple[str, str]:
    """The field (``contact.phone``, ``fields.size``) and the reason of a body's first problem."""
    problem = error.errors()[0]
    loc = [str(part) for part in problem["loc"]]
    field = loc[:2] if loc and loc[0] in ("contact", "fields") and len(loc) > 1 else loc[:1]
    reason = str(problem["msg"])
    if problem["type"] == "extra_forbidden":
        reason = "not a field of this request"
    return ".".join(field) or "body", reason


VERSION = Annotated[
    StrictInt, Field(ge=1, le=2**53, description="The deal's version you last read (or If-Match).")
]


class DealPatch(BaseModel):
    """What `kanbot deal edit` changes, plus the owner (`kanbot deal assign`): only the fields given."""

    model_config = ConfigDict(extra="forbid", title="DealChange")

    title: StrictStr | None = Field(None, description="A new title.")
    amount: StrictStr | StrictInt | StrictFloat | None = Field(
        None, description="A new amount; null clears it."
    )
    currency: StrictStr | None = Field(None, description="A new ISO 4217 code.")
    owner_telegram_id: TELEGRAM_ID | None = Field(None, description="A new owner (bosses only).")
    fields: dict[StrictStr, FieldValue] | None = Field(
        None, description="Own fields to set; null clears one."
    )
    version: VERSION | None = None

    def changes(self) -> dict[str, str]:
        """The deal's own columns to change, as the services take them (text)."""
        given = self.model_fields_set
        out: dict[str, str] = {}
        if "title" in given:
            out["title"] = self.title if self.title is not None else ""
        if "amount" in given:
            out["amount"] = field_text(self.amount) if self.amount is not None else ""
        if "currency" in given:
            out["currency"] = self.currency if self.currency is not None else ""
        return out

    def field_texts(self) -> dict[str, str | None]:
        return {
            key: None if value is None else field_text(value) for key, value in (self.fields or {}).items()
        }


class MoveIn(BaseModel):
    """Where to move the deal, as `kanbot deal move` takes it."""

    model_config = ConfigDict(extra="forbid", title="DealMove")

    stage: Ref = Field(description="Stage name or id.")
    pipeline: Ref | None = Field(None, description="Move the open deal to this pipeline (name or id).")
    reason: StrictStr | None = Field(None, description="Why, when moving to a lost stage.")
    note: StrictStr | None = Field(None, description="In your own words, with a lost reason.")
    version: VERSION | None = None

    @field_validator("pipeline", "stage")
    @classmethod
    def _a_reference(cls, value: str | int | None) -> str | int | None:
        return _ref(value)


class LostIn(BaseModel):
    """Why the deal is lost, as `kanbot deal lost` takes it."""

    model_config = ConfigDict(extra="forbid", title="DealLost")

    reason: StrictStr = Field(description="One of the team's lost reasons.")
    note: StrictStr | None = Field(None, description='In your own words, e.g. for reason "Other".')
    version: VERSION | None = None


class VersionIn(BaseModel):
    """A body for a change that needs nothing but (optionally) the version."""

    model_config = ConfigDict(extra="forbid", title="DealVersion")

    version: VERSION | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", title="NewNote")

    text: StrictStr = Field(description="The note.")


class TaskIn(BaseModel):
    """A task on a deal, as `kanbot task add` takes it."""

    model_config = ConfigDict(extra="forbid", title="NewTask")

    deal_id: Annotated[StrictInt, Field(ge=1, le=MAX_ID)] = Field(description="The deal.")
    due_at: StrictStr = Field(description="When, ISO 8601 (e.g. 2026-12-08T10:00:00Z).")
    text: StrictStr = Field(description="What to do.")
    assignee_telegram_id: TELEGRAM_ID | None = Field(None, description="Whose task (bosses only).")


class ContactPatch(BaseModel):
    """What to change of a contact, for every deal of theirs: only the fields given."""

    model_config = ConfigDict(extra="forbid", title="ContactChange")

    name: StrictStr | None = Field(None, description="The customer's name.")
    phone: StrictStr | None = Field(None, description="The customer's phone, any format.")
    company: StrictStr | None = Field(None, description="The customer's company.")

    def changes(self) -> dict[str, str]:
        return {key: value or "" for key, value in self.model_dump(exclude_unset=True).items()}


class NewContact(BaseModel):
    """A customer without a deal yet (bosses only)."""

    model_config = ConfigDict(extra="forbid", title="NewContact")

    name: StrictStr = Field(description="The customer's name.")
    phone: StrictStr | None = Field(None, description="The customer's phone, any format.")
    company: StrictStr | None = Field(None, description="The customer's company.")
