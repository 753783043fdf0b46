"""The team's own fields: each type reads what people type, refuses the rest, and reads its own text back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.domain.errors import InvalidInput, Why
from crm_core.domain.fields import FieldDef, FieldEntity, FieldType, missing_for_move
from crm_core.domain.funnel import Pipeline, Stage, StageKind


def field(kind: FieldType, choices: tuple[str, ...] = (), required_from: str | None = None) -> FieldDef:
    return FieldDef(
        key="f",
        entity=FieldEntity.DEAL,
        type=kind,
        names={"en": "City", "ru": "Город"},
        choices=choices,
        required_from=required_from,
    )


CITY = field(FieldType.CHOICE, ("Moscow", "Dubai", "Санкт-Петербург"))
PRODUCTS = field(FieldType.MULTI_CHOICE, ("PBX", "Phones", "Support"))


def refusal(definition: FieldDef, raw: str) -> Why | None:
    with pytest.raises(InvalidInput) as caught:
        definition.parse(raw, region="RU")
    assert caught.value.field == "f"
    return caught.value.reason


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        (FieldType.TEXT, "  Lenina   street 5 ", "Lenina street 5"),
        (FieldType.NUMBER, "1 200", "1200"),
        (FieldType.NUMBER, "12,50", "12.5"),
        (FieldType.NUMBER, "-3", "-3"),
        (FieldType.MONEY, "1 500,50", "1500.50"),
        (FieldType.MONEY, "15k", "15000.00"),
        (FieldType.DATE, "2026-12-25", "2026-12-25"),
        (FieldType.DATE, "25.12.2026", "2026-12-25"),
        (FieldType.PHONE, "8 495 123-45-67", "+74951234567"),
        (FieldType.URL, "https://example.com/x?y=1", "https://example.com/x?y=1"),
        (FieldType.BOOL, "Да", "yes"),
        (FieldType.BOOL, "نعم", "yes"),
        (FieldType.BOOL, "false", "no"),
        (FieldType.BOOL, "لا", "no"),
    ],
)
def test_each_type_reads_what_people_type(kind: FieldType, raw: str, stored: str) -> None:
    assert field(kind).parse(raw, region="RU") == (stored,)


@pytest.mark.parametrize(
    ("kind", "raw", "why"),
    [
        (FieldType.NUMBER, "many", Why.NOT_A_NUMBER),
        (FieldType.MONEY, "-5", Why.NOT_AN_AMOUNT),
        (FieldType.DATE, "31.02.2026", Why.NOT_A_DATE),
        (FieldType.DATE, "tomorrow", Why.NOT_A_DATE),
        (FieldType.PHONE, "12345", Why.NOT_A_PHONE),
        (FieldType.URL, "not a site", Why.NOT_A_URL),
        (FieldType.BOOL, "maybe", Why.YES_OR_NO),
        (FieldType.TEXT, "x" * 501, Why.TOO_LONG),
        (FieldType.TEXT, "   ", Why.EMPTY),
    ],
)
def test_a_wrong_value_is_refused_naming_the_field_and_why(kind: FieldType, raw: str, why: Why) -> None:
    assert refusal(field(kind), raw) is why


def test_a_choice_is_matched_whatever_its_case_and_must_be_one_of_the_choices() -> None:
    assert CITY.parse("DUBAI", region="RU") == ("Dubai",)
    assert CITY.parse("санкт-петербург", region="RU") == ("Санкт-Петербург",)
    with pytest.raises(InvalidInput) as caught:
        CITY.parse("Paris", region="RU")
    assert caught.value.reason is Why.ONE_OF
    assert caught.value.params == {"choices": "Moscow, Dubai, Санкт-Петербург"}


def test_a_multi_choice_keeps_the_choices_order_once_each() -> None:
    assert PRODUCTS.parse("support, pbx, Support", region="RU") == ("PBX", "Support")
    assert PRODUCTS.as_json(("PBX", "Support")) == ["PBX", "Support"]
    assert refusal(PRODUCTS, "PBX, Fax") is Why.ONE_OF


def test_the_json_of_a_value_is_typed_where_json_has_the_type() -> None:
    assert field(FieldType.BOOL).as_json(("yes",)) is True
    assert field(FieldType.NUMBER).as_json(("12.5",)) == "12.5"


def test_a_name_falls_back_to_english() -> None:
    assert (CITY.name("ru"), CITY.name("ar")) == ("Город", "City")


@settings(max_examples=200)
@given(st.sampled_from([CITY, PRODUCTS]), st.data())
def test_a_choice_value_reads_back_from_its_text(definition: FieldDef, data: st.DataObject) -> None:
    picked = data.draw(st.lists(st.sampled_from(definition.choices), min_size=1, unique=True))
    if definition.type is FieldType.CHOICE:
        picked = picked[:1]
    stored = definition.parse(", ".join(p.swapcase() for p in picked), region="RU")
    assert set(stored) == set(picked)
    assert definition.parse(definition.as_text(stored), region="RU") == stored


@settings(max_examples=300)
@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=4))
def test_a_number_reads_back_from_its_text_as_the_same_number(value: Decimal) -> None:
    number = field(FieldType.NUMBER)
    stored = number.parse(str(value), region="RU")
    assert Decimal(stored[0]) == value
    assert number.parse(number.as_text(stored), region="RU") == stored


@settings(max_examples=300)
@given(st.decimals(min_value=0, max_value=10**11, allow_nan=False, allow_infinity=False, places=2))
def test_money_reads_back_from_its_text_as_the_same_amount(value: Decimal) -> None:
    money = field(FieldType.MONEY)
    stored = money.parse(f"{value:,}".replace(",", " "), region="RU")
    assert Decimal(stored[0]) == value
    assert money.parse(money.as_text(stored), region="RU") == stored


@settings(max_examples=300)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_a_date_reads_back_from_its_text_and_from_the_dotted_form(day: date) -> None:
    when = field(FieldType.DATE)
    assert when.parse(day.strftime("%d.%m.%Y"), region="RU") == (day.isoformat(),)
    assert when.parse(when.as_text((day.isoformat(),)), region="RU") == (day.isoformat(),)


@settings(max_examples=200)
@given(st.text(min_size=1, max_size=500).filter(lambda t: t.strip()))
def test_text_reads_back_from_its_text(text: str) -> None:
    plain = field(FieldType.TEXT)
    try:
        stored = plain.parse(text, region="RU")
    except InvalidInput:
        return  # nothing visible once normalised
    assert plain.parse(plain.as_text(stored), region="RU") == stored


def stage(sid: int, name: str, position: int, kind: StageKind = StageKind.OPEN) -> Stage:
    return Stage(id=sid, pipeline_id=1, name=name, position=position, kind=kind)


INBOX, OPPORTUNITY, OFFER, SIGNING = (
    stage(1, "Unsorted", 1, StageKind.INBOX),
    stage(2, "Opportunity", 2),
    stage(3, "Commercial offer", 3),
    stage(4, "Signing", 4),
)
WON, LOST = stage(5, "Won", 5, StageKind.WON), stage(6, "Lost", 6, StageKind.LOST)
FUNNEL = Pipeline(id=1, name="Sales", is_default=True, stages=(INBOX, OPPORTUNITY, OFFER, SIGNING, WON, LOST))


def test_a_forward_move_into_or_past_the_required_stage_needs_the_field() -> None:
    city = field(FieldType.CHOICE, ("Moscow",), required_from="commercial offer")
    assert missing_for_move([city], {}, FUNNEL, OPPORTUNITY, OFFER) == [city]
    assert missing_for_move([city], {}, FUNNEL, INBOX, WON) == [city]
    assert missing_for_move([city], {"f": ("Moscow",)}, FUNNEL, OPPORTUNITY, WON) == []


def test_a_move_back_a_loss_or_a_move_before_the_stage_needs_nothing() -> None:
    city = field(FieldType.CHOICE, ("Moscow",), required_from="Commercial offer")
    assert missing_for_move([city], {}, FUNNEL, INBOX, OPPORTUNITY) == []
    assert missing_for_move([city], {}, FUNNEL, SIGNING, OFFER) == []
    assert missing_for_move([city], {}, FUNNEL, OPPORTUNITY, LOST) == []
    other = field(FieldType.CHOICE, ("Moscow",), required_from="Demo")  # a stage of another pipeline
    assert missing_for_move([other], {}, FUNNEL, INBOX, WON) == []
