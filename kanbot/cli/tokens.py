"""`kanbot token ...`: personal API tokens for the REST API, acting as their user."""

from __future__ import annotations

from typing import Any

import typer

from crm_core.domain.api_tokens import ApiToken
from crm_core.services import Crm
from kanbot.cli.common import AS_OPTION, JSON_OPTION, as_user, print_json, print_table, with_crm
from kanbot.cli.render import iso

app = typer.Typer(help="Personal API tokens: create, list, revoke.", no_args_is_help=True)


def token_json(token: ApiToken) -> dict[str, Any]:
    """A token as `token list --json` shows it: never its secret."""
    return {
        "id": token.id,
        "name": token.name,
        "scope": token.scope.value,
        "user": {"telegram_id": token.user_telegram_id, "name": token.user_name},
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "revoked_at": iso(token.revoked_at),
        "last_used_at": iso(token.last_used_at),
    }


@app.command("create")
def create(
    actor_id: int = AS_OPTION,
    name: str = typer.Option(..., "--name", help="What the token is for, e.g. the system using it."),
    scope: str = typer.Option("write", "--scope", help="read (reads only) or write (reads and writes)."),
    expires: str | None = typer.Option(
        None, "--expires", help='Lifetime, e.g. "90d", "12h", "2w" (default: never).'
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Make a token acting as you; its secret is printed this once and cannot be shown again."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        made = await crm.api_tokens.create(actor=actor, name=name, scope=scope, expires=expires)
        token = made.token
        if as_json:
            print_json(
                {
                    "id": token.id,
                    "name": token.name,
                    "token": made.secret,
                    "scope": token.scope.value,
                    "expires_at": iso(token.expires_at),
                }
            )
            return
        typer.echo(made.secret)
        until = f"until {iso(token.expires_at)}" if token.expires_at else "no expiry"
        typer.echo(
            f"Token {token.id} ({token.name}, {token.scope.value}, {until}): "
            "keep it now, it is not shown again.",
            err=True,
        )

    with_crm(go)


@app.command("list")
def list_tokens(actor_id: int = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List API tokens (a boss sees every one, a seller their own); never their secrets."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        tokens = await crm.api_tokens.tokens(actor=actor)
        if as_json:
            print_json([token_json(t) for t in tokens])
            return
        now = crm.clock.now()
        rows = [
            [
                t.id,
                t.name,
                t.user_name,
                t.scope.value,
                "revoked" if t.revoked_at else "expired" if not t.usable_at(now) else "active",
                iso(t.expires_at) or "never",
                iso(t.last_used_at) or "",
            ]
            for t in tokens
        ]
        print_table(["id", "name", "user", "scope", "state", "expires", "last used"], rows)

    with_crm(go)


@app.command("revoke")
def revoke(
    token_id: int = typer.Argument(...), actor_id: int = AS_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Revoke a token at once (a boss any, a seller their own)."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        token = await crm.api_tokens.revoke(token_id=token_id, actor=actor)
        if as_json:
            print_json(token_json(token))
        else:
            typer.echo(f"Token {token.id} ({token.name}) is revoked.")

    with_crm(go)
