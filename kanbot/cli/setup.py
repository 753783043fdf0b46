"""`kanbot init` and `kanbot db ...`: create, upgrade and inspect the database."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import typer
from sqlalchemy.engine import URL, make_url

from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from kanbot.app import open_crm
from kanbot.cli.common import fail, load_settings, run

db_app = typer.Typer(help="The database: upgrade its schema, check its state.", no_args_is_help=True)


def init(
    boss_telegram_id: int | None = typer.Option(None, help="Telegram id of the first boss."),
    boss_name: str = typer.Option("Boss", help="Name of the first boss."),
) -> None:
    """Create or upgrade the database, seed the default funnel and lost reasons, and the first boss."""
    settings = load_settings()

    async def go() -> None:
        async with open_crm(settings, upgrade=True) as crm:
            pipeline = await crm.pipelines.seed_defaults()
            typer.echo(f"Database ready: {settings.database_url}")
            typer.echo("Funnel: " + " → ".join(s.name for s in pipeline.stages))
            for boss_id in [*settings.boss_ids, *([boss_telegram_id] if boss_telegram_id else [])]:
                boss = await crm.users.ensure_boss(telegram_id=boss_id, name=boss_name)
                typer.echo(f"Boss: {boss.name} (Telegram id {boss.telegram_id})")

    run(go)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply the schema migrations the database is missing (harmless when none are)."""
    settings = load_settings()

    async def go() -> None:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
            typer.echo("Schema at " + ", ".join(sorted(await migrate.current_revisions(db))))
        finally:
            await db.dispose()

    run(go)


@db_app.command("current")
def current() -> None:
    """Print the schema revision of the database and whether it is the newest."""
    settings = load_settings()

    async def go() -> None:
        db = Database(settings.database_url)
        try:
            revisions = await migrate.current_revisions(db)
            state = "up to date" if revisions == migrate.head_revisions() else "needs `kanbot db upgrade`"
            typer.echo(f"{', '.join(sorted(revisions)) or 'empty'} ({state})")
        finally:
            await db.dispose()

    run(go)


@db_app.command("backup")
def backup(file: Path = typer.Argument(..., help="Where to write the backup.")) -> None:
    """Back the database up: SQLite with its online backup API; PostgreSQL with pg_dump."""
    settings = load_settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        source = Path(url.database or "")
        if not source.exists():
            fail(f"There is no database at {source}: nothing to back up.")
        file.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(file) as dest:
            src.backup(dest)  # consistent even while Kanbot writes
        typer.echo(f"Backed up {source} to {file} ({file.stat().st_size} bytes).")
        return
    command = ["pg_dump", "--format=custom", f"--file={file}", _libpq_url(url)]
    shown = " ".join([*command[:-1], _libpq_url(url, hide=True)])
    if shutil.which("pg_dump") is None:
        fail(f"pg_dump is not installed here; run this where it is: {shown}")
    typer.echo(f"Running: {shown}")
    result = subprocess.run(command, check=False)  # noqa: S603 - the arguments are ours
    if result.returncode != 0:
        fail(f"pg_dump failed (exit code {result.returncode}).")
    typer.echo(f"Backed up to {file}.")


@db_app.command("restore")
def restore(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A backup made by `db backup`."),
    yes: bool = typer.Option(False, "--yes", help="Replace the current database without asking."),
) -> None:
    """Restore a SQLite backup over the current database (stop Kanbot first)."""
    settings = load_settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        fail(
            f"For PostgreSQL use: pg_restore --clean --if-exists --dbname={_libpq_url(url, hide=True)} {file}"
        )
    try:
        with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as check:
            if check.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                fail(f"{file} is damaged (integrity check failed); nothing was changed.")
            tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:  # not a database at all, or too broken to check
        fail(f"{file} is damaged or not a database ({error}); nothing was changed.")
    if "deals" not in tables or "alembic_version" not in tables:
        fail(f"{file} is not a Kanbot database; nothing was changed.")
    target = Path(url.database or "")
    if target.exists() and not yes:
        typer.confirm(f"Replace {target} with {file}? Stop Kanbot first.", abort=True)
    with sqlite3.connect(file) as src, sqlite3.connect(target) as dest:
        src.backup(dest)
    typer.echo(
        f"Restored {file} into {target}. Run `kanbot db upgrade` if the backup is older than this version."
    )


def _libpq_url(url: URL, *, hide: bool = False) -> str:
    plain = url.set(drivername="postgresql")
    return plain.render_as_string(hide_password=hide)
