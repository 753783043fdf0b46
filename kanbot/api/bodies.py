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
)

TELEGRAM_ID = Annotated[StrictInt, Field(ge=1, le=2**53)]
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
    pipeline: StrictStr | StrictInt | None = Field(None, description="Pipeline name or id (default one).")
    stage: StrictStr | StrictInt | None = Field(None, description="Stage name or id (default: the inbox).")
    owner_telegram_id: TELEGRAM_ID | None = Field(None, description="The owner (bosses only; default: you).")
    contact: ContactIn | None = None
    fields: dict[StrictStr, FieldValue] | None = Field(None, description="The team's own fields, by key.")

    def field_texts(self) -> dict[str, str]:
        """The own fields as the services take them: text, as typed in the chat or the CLI."""
        return {key: _text(value) for key, value in (self.fields or {}).items()}


def _text(value: FieldValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def first_problem(error: ValidationError) -> tuple[str, str]:
    """The field (``contact.phone``, ``fields.size``) and the reason of a body's first problem."""
    problem = error.errors()[0]
    loc = [str(part) for part in problem["loc"]]
    field = loc[:2] if loc and loc[0] in ("contact", "fields") and len(loc) > 1 else loc[:1]
    reason = str(problem["msg"])
    if problem["type"] == "extra_forbidden":
        reason = "not a field of this request"
    return ".".join(field) or "body", reason
