"""The question for one of the team's fields, as a card shows it: choices and yes/no as buttons (three at
most a row), a multi-choice as ticks and Done, any other type typed."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.features.cards import stage_name
from bot.core.field_words import field_name, field_value
from bot.core.i18n import Tr, h, isolate
from bot.core.views import Button
from bot.core.widths import pack
from crm_core.domain.deals import Deal
from crm_core.domain.fields import FieldDef, FieldType, Values
from crm_core.domain.funnel import Stage

CLEAR = -1


def asks_by_buttons(definition: FieldDef) -> bool:
    return definition.has_choices or definition.type is FieldType.BOOL


def mask_of(definition: FieldDef, values: Values) -> int:
    """A multi-choice's values as bits of its choices' indexes."""
    return sum(1 << i for i, choice in enumerate(definition.choices) if choice in values)


def picked(definition: FieldDef, pick: int) -> str | None:
    """What a button of ``field_question`` stands for, as text the core reads; ``None``: clear it."""
    if definition.type is FieldType.MULTI_CHOICE:
        chosen = [c for i, c in enumerate(definition.choices) if pick >= 0 and pick & (1 << i)]
        return ", ".join(chosen) or None
    if pick == CLEAR:
        return None
    if definition.type is FieldType.BOOL:
        return "yes" if pick else "no"
    if not 0 <= pick < len(definition.choices):
        return None
    return definition.choices[pick]


def field_question(
    tr: Tr,
    deal: Deal,
    definition: FieldDef,
    current: Values,
    *,
    stage: Stage | None = None,
    mask: int | None = None,
) -> tuple[list[str], list[list[Button]]]:
    """The lines and buttons that ask for the field's value (``stage``: the move that waits for it;
    ``mask``: a multi-choice's ticks so far)."""
    name = field_name(definition, tr)
    shown = field_value(definition, current, tr, deal.currency)
    lines = [f"<b>{isolate(h(deal.title))}</b>"]
    if stage is not None:
        lines.append("📋 " + tr("Before {stage}, fill in: {field}", stage=stage_name(stage, tr), field=name))
    lines.append(tr("New {field}? Now: {value}", field=name, value=shown))
    d, v, key = deal.id, deal.version, definition.key
    rows: list[list[Button]] = []
    if definition.type is FieldType.MULTI_CHOICE:
        ticks = mask_of(definition, current) if mask is None else mask
        lines.append(tr("Tick any, then press Done."))
        toggles = [
            (("☑️ " if ticks & (1 << i) else "⬜ ") + c, A.ToggleField(d, v, key, ticks ^ (1 << i)))
            for i, c in enumerate(definition.choices)
        ]
        rows += pack((label, Button.act(label, act)) for label, act in toggles)
        rows.append([Button.act("✅ " + tr.label("Done"), A.SetField(d, v, key, ticks))])
        return lines, rows
    if definition.type is FieldType.BOOL:
        options = [(tr.label("Yes"), 1), (tr.label("No"), 0)]
    elif definition.type is FieldType.CHOICE:
        options = list(zip(definition.choices, range(len(definition.choices)), strict=True))
    else:
        options = []
    if options:
        chosen = current[0] if current else None
        labelled = [
            (("• " if picked(definition, pick) == chosen else "") + label, pick) for label, pick in options
        ]
        rows += pack((label, Button.act(label, A.SetField(d, v, key, pick))) for label, pick in labelled)
    if current and stage is None:
        rows.append([Button.act("∅ " + tr.label("Clear"), A.SetField(d, v, key, CLEAR))])
    return lines, rows
