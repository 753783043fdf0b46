"""`kanbot pipeline ...`: the funnel, as a YAML file."""

from __future__ import annotations

from pathlib import Path

import typer

from crm_core.domain.errors import InvalidInput
from crm_core.services import Crm
from crm_core.services.fields import fields_spec_from_document
from crm_core.services.funnel import funnels_spec_from_document
from kanbot.cli.common import JSON_OPTION, fail, print_json, with_crm

app = typer.Typer(help="The funnel's pipelines: show them as YAML, apply a YAML file.", no_args_is_help=True)


@app.command("show")
def show(as_json: bool = JSON_OPTION) -> None:
    """Print the funnel as YAML: one pipeline's file, or every pipeline's (edit it and apply it)."""
    import yaml  # here, not at the top: every `kanbot` command (`kanbot run` too) imports this module

    async def go(crm: Crm) -> None:
        document = await crm.pipelines.document()
        document["fields"] = await crm.fields.document()
        if as_json:
            print_json(document)
        else:
            typer.echo(yaml.safe_dump(document, allow_unicode=True, sort_keys=False).rstrip())

    with_crm(go)


@app.command("apply")
def apply(file: Path = typer.Argument(..., help="A funnel YAML file.", exists=True, dir_okay=False)) -> None:
    """Validate a funnel file and make the funnel look like it (all or nothing)."""
    import yaml

    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        fail(f"{file} is not valid YAML: {error}")
    except ValueError:  # a number of more than 4300 digits, which Python refuses to read
        fail(f"{file} holds a number too long to read.")
    try:
        spec = funnels_spec_from_document(document)
        fields = fields_spec_from_document(document)
    except InvalidInput as error:
        fail(f"{file}: {error}")

    async def go(crm: Crm) -> None:
        if fields is not None:  # checked first, so that a refused field leaves the funnel as it was
            await crm.fields.check(fields)
        await crm.pipelines.apply(spec)
        pipelines = await crm.pipelines.list()
        for pipeline in pipelines:
            name = f"{pipeline.name}: " if len(pipelines) > 1 else ""
            typer.echo(f"Funnel applied: {name}" + " → ".join(s.name for s in pipeline.stages))
        if fields is not None:
            applied = await crm.fields.apply(fields)
            typer.echo("Fields applied: " + (", ".join(d.key for d in applied) or "none"))
        names = {s.name.casefold() for s in pipeline.stages}
        for d in await crm.fields.definitions():  # a stage renamed or removed by a file without `fields:`
            if d.required_from and d.required_from.casefold() not in names:
                typer.echo(
                    f"note: field {d.key!r} is required from {d.required_from!r}, no stage now", err=True
                )

    with_crm(go)
