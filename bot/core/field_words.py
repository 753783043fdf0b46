"""The team's own fields in the user's words: a field's name in their language, a value as they read it."""

from __future__ import annotations

from decimal import Decimal

from bot.core.i18n import Html, Tr, h, isolate
from crm_core.domain.fields import FieldDef, FieldType, Values
from crm_core.domain.phones import pretty as pretty_phone


def field_name(definition: FieldDef, tr: Tr) -> Html:
    """The field's name in the user's language (English when the file gives none in it), escaped."""
    return h(definition.name(tr.locale))


def field_value(definition: FieldDef, values: Values, tr: Tr, currency: str) -> Html:
    """A stored value as the card shows it, escaped; "—" for none."""
    if not values:
        return Html("—")
    if definition.type is FieldType.BOOL:
        return tr("yes") if values[0] == "yes" else tr("no")
    if definition.type is FieldType.MONEY:
        return h(tr.money(Decimal(values[0]), currency))
    if definition.type is FieldType.PHONE:
        return h(pretty_phone(values[0]))
    return Html(", ".join(isolate(h(v)) for v in values))


def field_line(definition: FieldDef, values: Values, tr: Tr, currency: str) -> str:
    """ "City: Dubai", as a line of the card."""
    return f"▫️ {field_name(definition, tr)}: {field_value(definition, values, tr, currency)}"
