"""`kanbot user ...`: the team."""

from __future__ import annotations

import typer

from crm_core.domain.users import Role
from crm_core.services import Crm
from kanbot.cli.common import JSON_OPTION, print_json, print_table, with_crm
from kanbot.cli.render import user_json

app = typer.Typer(help="The team: sellers and bosses.", no_args_is_help=True)


@app.command("add")
def add(
    telegram_id: int = typer.Option(..., help="The person's Telegram id (the bot shows it to strangers)."),
    name: str = typer.Option(..., help="Name as the team sees it."),
    role: Role = typer.Option(..., help="seller or boss."),
    extension: list[str] = typer.Option([], "--extension", help="A PBX extension (repeat for several)."),
    tz: str = typer.Option("UTC", "--tz", help="IANA time zone, e.g. Europe/Moscow."),
    locale: str = typer.Option("en", help="en, ru or ar."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a seller or a boss."""

    async def go(crm: Crm) -> None:
        user = await crm.users.add(
            telegram_id=telegram_id,
            name=name,
            role=role,
            extensions=tuple(extension),
            timezone=tz,
            locale=locale,
        )
        if as_json:
            print_json(user_json(user))
        else:
            typer.echo(f"Added {user.role.value} {user.name} (Telegram id {user.telegram_id}).")

    with_crm(go)


@app.command("edit")
def edit(
    telegram_id: int = typer.Argument(..., help="The person's Telegram id."),
    name: str | None = typer.Option(None, help="A new name."),
    role: str | None = typer.Option(None, help="seller or boss."),
    extension: list[str] | None = typer.Option(
        None, "--extension", help="A PBX extension (repeat for several); they replace the old ones."
    ),
    tz: str | None = typer.Option(None, "--tz", help="An IANA time zone (Europe/Moscow) or a city."),
    locale: str | None = typer.Option(None, help="en, ru or ar."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change someone's name, role, extensions, time zone or language (all given, or nothing)."""

    async def go(crm: Crm) -> None:
        user = await crm.users.edit(
            telegram_id=telegram_id,
            name=name,
            role=role,
            extensions=tuple(extension) if extension else None,
            timezone=tz,
            locale=locale,
        )
        if as_json:
            print_json(user_json(user))
        else:
            extensions = ", ".join(user.extensions) or "none"
            typer.echo(
                f"{user.name} ({user.telegram_id}): {user.role.value}, extensions {extensions}, "
                f"{user.timezone}, {user.locale}."
            )

    with_crm(go)


@app.command("list")
def list_users(as_json: bool = JSON_OPTION) -> None:
    """List everyone, active or not."""

    async def go(crm: Crm) -> None:
        users = await crm.users.list()
        if as_json:
            print_json([user_json(u) for u in users])
            return
        print_table(
            ["telegram_id", "name", "role", "extensions", "tz", "locale", "active"],
            [
                [
                    u.telegram_id,
                    u.name,
                    u.role.value,
                    ",".join(u.extensions),
                    u.timezone,
                    u.locale,
                    "yes" if u.active else "no",
                ]
                for u in users
            ],
        )

    with_crm(go)


@app.command("deactivate")
def deactivate(
    telegram_id: int = typer.Argument(..., help="Telegram id of the person leaving."),
    hand_over_to: int | None = typer.Option(
        None, help="Telegram id who gets their open deals (else unassigned)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Deactivate someone who left; their open deals go to another seller or to nobody."""

    async def go(crm: Crm) -> None:
        user, moved = await crm.users.deactivate(telegram_id=telegram_id, hand_over_to=hand_over_to)
        if as_json:
            print_json(user_json(user) | {"deals_handed_over": moved})
        else:
            typer.echo(f"Deactivated {user.name}; {moved} open deal(s) handed over.")

    with_crm(go)
