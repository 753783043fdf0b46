"""The pure mapping of other CRMs' export columns to Kanbot's import rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_core.domain.errors import InvalidInput
from crm_core.domain.imports import (
    Outcome,
    Product,
    StageMapping,
    email_name,
    map_row,
    parse_when,
    read_header,
)


def test_each_products_own_headers_are_read_whatever_their_case_and_spacing() -> None:
    header = read_header(Product.PIPEDRIVE, ["deal - id", "Deal -  Title", "Deal - Status", "Deal - Seats"])
    row = map_row(header, 2, ["7", " Roof ", "won", "10"])
    assert (row.external_id, row.title, row.outcome, row.extras) == (
        "7",
        "Roof",
        Outcome.WON,
        (("Deal - Seats", "10"),),
    )


def test_kommo_and_bitrix24_close_deals_by_their_own_stage_names() -> None:
    kommo = read_header(Product.KOMMO, ["ID", "Lead title", "Stage"])
    assert map_row(kommo, 2, ["1", "A", "Closed - lost"]).outcome is Outcome.LOST
    assert map_row(kommo, 3, ["2", "B", "Initial contact"]).outcome is Outcome.OPEN
    bitrix = read_header(Product.BITRIX24, ["ID", "Название сделки", "Стадия сделки"])
    assert map_row(bitrix, 2, ["1", "A", "Сделка успешна"]).outcome is Outcome.WON


def test_a_file_without_the_products_id_or_title_column_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Deal - ID"):
        read_header(Product.PIPEDRIVE, ["title", "amount"])


def test_dates_are_read_as_the_products_write_them() -> None:
    expected = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)
    for text in ("2026-12-31 18:00:00", "31.12.2026 18:00", "12/31/2026 06:00 PM", "2026-12-31T18:00:00Z"):
        assert parse_when(text, what="created") == expected
    assert parse_when("", what="created") is None
    with pytest.raises(InvalidInput, match="created"):
        parse_when("yesterday", what="created")


def test_the_mapping_file_names_stages_alone_or_with_their_pipeline_and_owners() -> None:
    mapping = StageMapping.from_document(
        {"stages": {"Qualified": "Opportunity", "Renewals / Qualified": "Quote"}, "owners": {"a@x.io": 201}}
    )
    assert mapping.stage_for("Sales", "qualified") == "Opportunity"
    assert mapping.stage_for("Renewals", "Qualified") == "Quote"
    assert mapping.owner_for("A@X.io") == "201"
    with pytest.raises(InvalidInput, match="stage_map"):
        StageMapping.from_document({"stage_map": {}})
    assert email_name("anna.petrova@acme.example") == "anna petrova"
