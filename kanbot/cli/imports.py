"""`kanbot import from kommo|bitrix24|pipedrive FILE`: another CRM's deals export, read at the edge.

Reading the file (CSV in UTF-8 or Windows-1251, comma, semicolon or tab separated; or XLSX) is this
module's; what the columns mean and every rule of the import are ``crm_core``'s."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import typer
import yaml

from crm_core.domain.errors import CrmError, InvalidInput
from crm_core.domain.imports import Product, StageMapping
from crm_core.services import Crm
from crm_core.services.imports import PROGRESS_EVERY, ImportReport, UnmappedStages
from crm_core.services.transfer import ImportError_
from kanbot.cli.common import fail, with_crm

XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx file is a zip archive


def read_table(path: Path) -> Iterator[tuple[int, Sequence[str]]]:
    """The file's rows with their line numbers (a spreadsheet's row numbers), every cell as text."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == XLSX_MAGIC:
        return _xlsx_rows(path)
    return _csv_rows(path)


def _csv_rows(path: Path) -> Iterator[tuple[int, Sequence[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1251")  # Bitrix24 and Kommo accounts in Russian export Windows-1251
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        start = 1
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as error:
        raise InvalidInput("CSV file", f"line {reader.line_num + 1}", detail=str(error)) from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, Sequence[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise InvalidInput("XLSX file", path.name, detail=f"cannot be read: {error}") from None
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_text(v) for v in values]
    finally:
        book.close()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f") if value != int(value) else str(int(value))
    return str(value)


def read_mapping(path: Path | None) -> StageMapping:
    if path is None:
        return StageMapping()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        fail(f"{path} is not a YAML file: {error}")
    try:
        return StageMapping.from_document(doc)
    except CrmError as error:
        fail(f"{path}: {error}")


def import_from(
    product: Product = typer.Argument(..., help="The product the file comes from."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Its deals export, CSV or XLSX."),
    map_stages: Path | None = typer.Option(
        None, "--map-stages", exists=True, dir_okay=False, help="A YAML file naming its stages in Kanbot."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file and tell what it would do."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the good rows even if some are bad."),
    as_id: int | None = typer.Option(None, "--as", help="Import as this boss (their Telegram id)."),
    progress_every: int = typer.Option(PROGRESS_EVERY, "--progress-every", min=1, hidden=True),
) -> None:
    """Import deals from a Kommo, Bitrix24 or Pipedrive export; importing it again updates them."""
    mapping = read_mapping(map_stages)

    def progress(rows: int) -> None:
        typer.echo(f"... {rows} rows", err=True)

    async def go(crm: Crm) -> None:
        actor = await crm.users.identify(as_id) if as_id is not None else None
        try:
            report = await crm.imports.import_from(
                product,
                read_table(file),
                mapping=mapping,
                dry_run=dry_run,
                skip_bad=skip_bad,
                actor=actor,
                progress=progress,
                progress_every=progress_every,
            )
        except ImportError_ as error:
            if isinstance(error, UnmappedStages):
                _unmapped(error.unmapped)
            for row_error in error.errors:
                typer.echo(str(row_error), err=True)
            fail(
                f"Nothing was imported: {len(error.errors)} bad row(s) "
                "(fix them, map the stages with --map-stages, or use --skip-bad to import the others)."
            )
        _print(report)

    with_crm(go)


def _unmapped(stages: dict[str, int]) -> None:
    typer.echo("Stages with no Kanbot stage (map them with --map-stages):", err=True)
    for name, rows in sorted(stages.items()):
        typer.echo(f"  {name}: {rows} deal(s)", err=True)


def _print(report: ImportReport) -> None:
    label = report.product.label
    if report.unmapped_stages:
        typer.echo("Stages with no Kanbot stage (map them with --map-stages):")
        for name, rows in sorted(report.unmapped_stages.items()):
            typer.echo(f"  {name}: {rows} deal(s)")
    if report.unknown_owners:
        typer.echo(f"{label} users who are no Kanbot user (their deals come with no owner):")
        for name, rows in sorted(report.unknown_owners.items()):
            typer.echo(f"  {name}: {rows} deal(s)")
    for row_error in report.errors:
        typer.echo(("bad " if report.dry_run else "skipped ") + str(row_error), err=not report.dry_run)
    for join in report.joined:
        typer.echo(f"joined {join}")
    if report.dry_run:
        typer.echo(
            f"Dry run, nothing changed: {report.created} new deal(s), {report.updated} to update, "
            f"{len(report.errors)} bad row(s), {report.notes} with a note of other columns."
        )
        return
    typer.echo(
        f"Imported from {label}: {report.created} new deal(s), {report.updated} updated, "
        f"{report.unchanged} unchanged; skipped {len(report.errors)}."
    )
