"""`kanbot form ...`: the website forms whose leads land in the inbox (`POST /api/v1/leads`)."""

from __future__ import annotations

from typing import Any

import typer

from crm_core.domain.web_forms import WebForm
from crm_core.services import Crm
from kanbot.cli.common import JSON_OPTION, print_json, print_table, with_crm
from kanbot.cli.render import iso

app = typer.Typer(help="Web forms whose leads land in the inbox: create, list, remove.", no_args_is_help=True)


def form_json(form: WebForm) -> dict[str, Any]:
    return {
        "id": form.id,
        "name": form.name,
        "key": form.key,
        "pipeline_id": form.pipeline_id,
        "owner_id": form.owner_id,
        "created_at": iso(form.created_at),
    }


@app.command("create")
def create(
    name: str = typer.Option(..., "--name", help='What the form is, e.g. "Website".'),
    pipeline: str | None = typer.Option(None, "--pipeline", help="Pipeline name or id (default one)."),
    owner: int | None = typer.Option(
        None, "--owner", help="Telegram id of the seller who gets its leads (default: the inbox, unassigned)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Make a form; its key goes in the website's page (see docs/forms.md)."""

    async def go(crm: Crm) -> None:
        ref: str | int | None = int(pipeline) if pipeline and pipeline.isdigit() else pipeline
        form = await crm.web_forms.create(name=name, pipeline=ref, owner_telegram_id=owner)
        if as_json:
            print_json({"id": form.id, "name": form.name, "key": form.key})
            return
        typer.echo(form.key)
        typer.echo(f"Form {form.id} ({form.name}): put this key in the page's form_key field.", err=True)

    with_crm(go)


@app.command("list")
def list_forms(as_json: bool = JSON_OPTION) -> None:
    """List the forms and their keys."""

    async def go(crm: Crm) -> None:
        forms = await crm.web_forms.forms()
        if as_json:
            print_json([form_json(f) for f in forms])
            return
        rows = [
            [f.id, f.name, f.key, f.pipeline_id or "default", f.owner_id or "", iso(f.created_at)]
            for f in forms
        ]
        print_table(["id", "name", "key", "pipeline", "owner", "created"], rows)

    with_crm(go)


@app.command("remove")
def remove(form_id: int = typer.Argument(...)) -> None:
    """Remove a form: its key stops working at once; the deals it made stay."""

    async def go(crm: Crm) -> None:
        await crm.web_forms.remove(form_id=form_id)
        typer.echo(f"Form {form_id} is removed.")

    with_crm(go)
