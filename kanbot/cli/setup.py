"""`kanbot init` and `kanbot db ...`: create, upgrade and inspect the database."""

from __future__ import annotations

import typer

from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from kanbot.app import open_crm
from kanbot.cli.common import load_settings, run

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
