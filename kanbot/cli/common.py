"""What every command shares: running async code, turning errors into one clear sentence, output."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from crm_core.domain.errors import CrmError
from crm_core.domain.users import User
from crm_core.services import Crm
from kanbot.app import NotReady, open_crm
from kanbot.settings import CoreSettings, SettingError, describe_validation_error

T = TypeVar("T")

AS_OPTION = typer.Option(..., "--as", help="Act as this user (their Telegram id); access rules apply.")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of text.")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def load_settings() -> CoreSettings:
    try:
        return CoreSettings()
    except ValidationError as error:
        fail(describe_validation_error(error))


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` and turn every refusal into one sentence on stderr and exit code 1."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except (CrmError, NotReady, SettingError) as error:
        fail(str(error))
    except ValidationError as error:
        fail(describe_validation_error(error))
    except DBAPIError as error:  # not only OperationalError: asyncpg reports a missing database otherwise
        fail(f"The database cannot be reached or used: {error.orig}.")
    except OSError as error:
        fail(f"{error.strerror or error}: {error.filename}" if error.filename else str(error))


def with_crm(work: Callable[[Crm], Awaitable[T]], *, upgrade: bool = False) -> T:
    settings = load_settings()

    async def go() -> T:
        async with open_crm(settings, upgrade=upgrade) as crm:
            return await work(crm)

    return run(go)


def as_user(telegram_id: int) -> Callable[[Crm], Awaitable[User]]:
    async def resolve(crm: Crm) -> User:
        return await crm.users.identify(telegram_id)

    return resolve


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table, readable in a terminal and in a log."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        typer.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            typer.echo("  ".join("-" * w for w in widths))
    if not rows:
        typer.echo("(none)")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
