"""Writes kommo_leads.xlsx: a Kommo leads export (Leads → ⋯ → Export → Excel) of an English account.

Run from the repository root: ``.venv/bin/python tests/data/imports/make_kommo_xlsx.py``. The file is
committed; this script says what is in it. Dates are real date cells and budgets numbers, as Kommo writes
them; the "City" column is one of the account's own lead fields."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HEADER = [
    "ID",
    "Lead title",
    "Budget",
    "Lead responsible",
    "Pipeline",
    "Stage",
    "Date created",
    "Created by",
    "Date modified",
    "Modified by",
    "Closed at",
    "Tags",
    "Loss reason",
    "Full name (contact)",
    "Company (contact)",
    "Work phone (contact)",
    "Mobile phone (contact)",
    "Work email (contact)",
    "City",
]
ROWS = [
    [
        7001,
        "Solar panels for a villa",
        48000,
        "Alice",
        "Sales",
        "Initial contact",
        datetime(2026, 11, 3, 9, 30),
        "Alice",
        datetime(2026, 11, 20, 12, 0),
        "Alice",
        None,
        "web",
        None,
        "Omar Haddad",
        "Haddad Holdings",
        "+971 50 123 4567",
        None,
        "omar@haddad.example",
        "Dubai",
    ],
    [
        7002,
        "Battery storage",
        12500.5,
        "Anna Smirnova",
        "Sales",
        "Decision making",
        datetime(2026, 10, 14, 15, 0),
        "Alice",
        datetime(2026, 11, 28, 10, 0),
        "Anna Smirnova",
        None,
        None,
        None,
        "Omar Haddad",
        "Haddad Holdings",
        None,
        "+971501234567",
        None,
        "Dubai",
    ],
    [
        7003,
        "Inverter replacement",
        3200,
        "Alice",
        "Sales",
        "Closed - won",
        datetime(2026, 9, 1, 11, 0),
        "Alice",
        datetime(2026, 9, 25, 17, 0),
        "Alice",
        datetime(2026, 9, 25, 17, 0),
        "service",
        None,
        "John Smith",
        None,
        "+44 20 7946 0958",
        None,
        None,
        "London",
    ],
    [
        7004,
        "Roof survey",
        900,
        "Dmitry",
        "Sales",
        "Closed - lost",
        datetime(2026, 8, 20, 10, 0),
        "Alice",
        datetime(2026, 9, 2, 9, 0),
        "Alice",
        datetime(2026, 9, 2, 9, 0),
        None,
        "No budget",
        "Lena",
        None,
        None,
        "8 916 765-43-21",
        None,
        None,
    ],
    [
        7005,
        "Carport panels",
        None,
        "Alice",
        "Sales",
        "Incoming leads",
        datetime(2026, 12, 1, 8, 0),
        "Robot",
        datetime(2026, 12, 1, 8, 0),
        "Robot",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ],
]


def main() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Leads"
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    book.save(Path(__file__).with_name("kommo_leads.xlsx"))


if __name__ == "__main__":
    main()
