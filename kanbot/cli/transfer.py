"""`kanbot export deals` and `kanbot import deals`: CSV in and out."""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from crm_core.services import Crm
from crm_core.services.transfer import ImportError_
from kanbot.cli.common import fail, with_crm
from kanbot.cli.imports import import_from

export_app = typer.Typer(help="Export data.", no_args_is_help=True)
import_app = typer.Typer(help="Import data.", no_args_is_help=True)


class Format(enum.StrEnum):
    CSV = "csv"


@export_app.command("deals")
def export_deals(fmt: Format = typer.Option(Format.CSV, "--format", help="Only csv for now.")) -> None:
    """Write every deal as CSV to standard output."""

    async def go(crm: Crm) -> None:
        for line in await crm.transfer.export_csv():
            typer.echo(line, nl=False)

    with_crm(go)


@import_app.command("deals")
def import_deals(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A CSV file with at least a `title` column."
    ),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the good rows even if some are bad."),
) -> None:
    """Import deals from CSV: every row is checked first; a bad row stops it all unless --skip-bad."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text; save it as CSV UTF-8.")

    async def go(crm: Crm) -> None:
        try:
            result = await crm.transfer.import_csv(text, skip_bad=skip_bad)
        except ImportError_ as error:
            for row_error in error.errors:
                typer.echo(str(row_error), err=True)
            fail(
                f"Nothing was imported: {len(error.errors)} bad row(s) (use --skip-bad to import the others)."
            )
        for row_error in result.errors:
            typer.echo(f"skipped {row_error}", err=True)
        for join in result.joined:  # a known number: the deal is that customer's, with their other deals
            typer.echo(f"joined {join}")
        typer.echo(f"Imported {result.imported} deal(s); skipped {len(result.errors)}.")

    with_crm(go)


import_app.command("from")(import_from)
