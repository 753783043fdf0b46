"""`kanbot deal ...`: deals, acting as a user (their access rules apply)."""

from __future__ import annotations

import typer

from crm_core.domain.contacts import ContactScope, ContactShared, KnownCustomer
from crm_core.domain.deals import Deal, Source
from crm_core.domain.users import User
from crm_core.services import Crm
from crm_core.services.fields import field_values_json
from kanbot.cli.common import AS_OPTION, JSON_OPTION, as_user, fail, print_json, print_table, with_crm
from kanbot.cli.render import (
    DEAL_HEADERS,
    deal_json,
    deal_row,
    deals_json,
    history_json,
    iso,
    pipeline_names,
    task_words,
)

# In the JSON, not in the table: what an undo restores, and a team's field's marks and names.
UNDO_DETAILS = ("since", "active_at", "custom", "names")
app = typer.Typer(help="Deals: add, list, show, move, win, lose, reopen, history.", no_args_is_help=True)


FIELD_OPTION = typer.Option(
    [], "--field", help="One of the team's own fields, KEY=VALUE (repeatable; KEY= clears it on edit)."
)


def field_changes(pairs: list[str]) -> dict[str, str]:
    """``--field KEY=VALUE`` options as changes by key; a malformed one stops the command."""
    changes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--field {pair!r}: write it as KEY=VALUE.")
        if key.strip() in changes:
            fail(f"--field {key.strip()!r} is given twice.")
        changes[key.strip()] = value
    return changes


async def with_fields(crm: Crm, actor: User, deals: list[Deal]) -> list[dict[str, object]]:
    """The deals' JSON, each with its team's own fields."""
    return await deals_json(crm, actor, deals)


async def _show_deal(crm: Crm, actor: User, deal: Deal, as_json: bool) -> None:
    _print_deal((await with_fields(crm, actor, [deal]))[0], as_json)


def _print_deal(deal_data: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(deal_data)
        return
    for key, value in deal_data.items():
        if key == "fields" and isinstance(value, dict):
            for name, shown in value.items():
                shown = ", ".join(shown) if isinstance(shown, list) else shown
                typer.echo(f"{name:>17}: {'yes' if shown is True else 'no' if shown is False else shown}")
            continue
        if isinstance(value, dict):
            task = (value.get("due_at"), value.get("text"))  # the next task, shown by when and what
            value = value.get("name") or value.get("phone") or " ".join(str(part) for part in task if part)
        typer.echo(f"{key:>17}: {'' if value is None else value}")


@app.command("add")
def add(
    actor_id: int = AS_OPTION,
    title: str = typer.Option(..., help="What the deal is."),
    contact_name: str | None = typer.Option(None, help="The customer's name."),
    phone: str | None = typer.Option(None, help="The customer's phone, any format."),
    amount: str | None = typer.Option(None, help='The amount, e.g. "1 500,50" or 1500.50.'),
    currency: str | None = typer.Option(None, help="ISO 4217 code; the default from settings otherwise."),
    stage: str | None = typer.Option(None, help="Stage name or id (default: the inbox)."),
    owner: int | None = typer.Option(None, help="Owner's Telegram id (bosses only; default: you)."),
    pipeline: str | None = typer.Option(None, help="Pipeline name or id (default: the default one)."),
    field: list[str] = FIELD_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a deal (in the default pipeline unless --pipeline says)."""
    fields = field_changes(field)

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        customer = await crm.deals.customer_of(phone=phone, actor=actor) if phone and phone.strip() else None
        deal = await crm.deals.create(
            actor=actor,
            title=title,
            contact_name=contact_name,
            phone=phone,
            amount=amount,
            currency=currency,
            stage=stage,
            owner_telegram_id=owner,
            source=Source.MANUAL,
            pipeline=pipeline,
            fields=fields,
        )
        if customer is not None:  # on stderr: the deal's JSON on stdout keeps its shape
            typer.echo(f"note: {joins(customer)}", err=True)
        await _show_deal(crm, actor, deal, as_json)

    with_crm(go)


def joins(customer: KnownCustomer) -> str:
    """Whose the number of a new deal was, and their other open deals (titles only if yours to see)."""
    text = f"{customer.contact.phone} is {customer.name}'s number; the new deal joins that customer"
    named = [f"#{d.id} {d.title}" for d in customer.seen]
    if customer.unseen:
        named.append(f"{customer.unseen} of another seller")
    return text + (f", who has other open deals: {', '.join(named)}." if named else ".")


@app.command("edit")
def edit(
    deal_id: int = typer.Argument(...),
    actor_id: int = AS_OPTION,
    title: str | None = typer.Option(None, help="A new title."),
    amount: str | None = typer.Option(None, help='A new amount, e.g. "1 500,50".'),
    currency: str | None = typer.Option(None, help="A new ISO 4217 currency code."),
    contact_name: str | None = typer.Option(None, help="The customer's new name."),
    phone: str | None = typer.Option(None, help="The customer's new phone, any format."),
    company: str | None = typer.Option(None, help="The customer's new company."),
    priority: str | None = typer.Option(None, help="low, normal or high."),
    contact_scope: ContactScope | None = typer.Option(
        None,
        "--contact-scope",
        help="When other deals share the contact: `all` changes it for every one of them, "
        "`this` gives this deal its own contact.",
    ),
    field: list[str] = FIELD_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a deal's fields, all at once or none; a shared contact needs --contact-scope."""
    own = field_changes(field)
    fields = {
        "title": title,
        "amount": amount,
        "currency": currency,
        "contact": contact_name,
        "phone": phone,
        "company": company,
        "priority": priority,
    }
    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes and not own:
        fail(
            "Nothing to change: give --title, --amount, --currency, --contact-name, --phone, --company, "
            "--priority or --field KEY=VALUE."
        )

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        try:
            deal = await crm.deals.edit_fields(
                deal_id=deal_id, changes=changes, actor=actor, contact_scope=contact_scope, own=own
            )
        except ContactShared as error:
            fail(f"{error} Add --contact-scope all or --contact-scope this.")
        await _show_deal(crm, actor, deal, as_json)

    with_crm(go)


@app.command("list")
def list_deals(
    actor_id: int = AS_OPTION,
    stage: str | None = typer.Option(None, help="Only this stage (name or id)."),
    owner: int | None = typer.Option(None, help="Only this owner's deals (Telegram id)."),
    pipeline: str | None = typer.Option(None, help="Only this pipeline's deals (name or id)."),
    mine: bool = typer.Option(
        False, "--mine", help="Only open deals you own (or --owner's): what /deals lists and /team counts."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the deals you may see, by stage, newest in the stage first."""
    if mine and stage is not None:
        fail("--mine lists the open deals of every stage; leave out --stage.")

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        if mine:
            deals = await crm.deals.my_open(actor=actor, owner_telegram_id=owner)
            if pipeline is not None:
                only = await crm.pipelines.get(pipeline)
                deals = [d for d in deals if d.pipeline_id == only.id]
        else:
            deals = await crm.deals.list_deals(
                actor=actor, stage=stage, owner_telegram_id=owner, pipeline=pipeline
            )
        if as_json:
            print_json(await with_fields(crm, actor, deals))
        else:
            print_table(DEAL_HEADERS, [deal_row(d) for d in deals])

    with_crm(go)


@app.command("show")
def show(deal_id: int = typer.Argument(...), actor_id: int = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show one deal."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        details = await crm.deals.details(deal_id=deal_id, actor=actor)
        data = deal_json(
            details.deal,
            await pipeline_names(crm),
            field_values_json([d for d, _ in details.fields], {d.key: v for d, v in details.fields}),
        )
        # The JSON is the deal's public shape, exactly; the next task is shown to people only.
        if details.next_task is not None and not as_json:
            data["next_task"] = {
                "id": details.next_task.id,
                "due_at": iso(details.next_task.due_at),
                "text": task_words(details.next_task),
            }
        _print_deal(data, as_json)

    with_crm(go)


@app.command("move")
def move(
    deal_id: int = typer.Argument(...),
    to: str = typer.Option(..., "--to", help="Stage name or id."),
    reason: str | None = typer.Option(None, help="Why, when moving to a lost stage."),
    pipeline: str | None = typer.Option(
        None, help="Move the open deal to this pipeline (name or id), to its stage --to."
    ),
    actor_id: int = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Move a deal to a stage (a won or lost deal only back to the stage it was closed from), or to a
    stage of another pipeline with --pipeline."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        target = await crm.pipelines.get(pipeline) if pipeline is not None else None
        current = await crm.deals.get(deal_id=deal_id, actor=actor) if target is not None else None
        if target is not None and current is not None and current.pipeline_id != target.id:
            deal = await crm.deals.change_pipeline(deal_id=deal_id, pipeline=target.id, stage=to, actor=actor)
        else:
            deal = await crm.deals.move(deal_id=deal_id, to_stage=to, actor=actor, lost_reason=reason)
        await _show_deal(crm, actor, deal, as_json)

    with_crm(go)


@app.command("won")
def won(deal_id: int = typer.Argument(...), actor_id: int = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Close a deal as won."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        await _show_deal(crm, actor, await crm.deals.mark_won(deal_id=deal_id, actor=actor), as_json)

    with_crm(go)


@app.command("lost")
def lost(
    deal_id: int = typer.Argument(...),
    reason: str = typer.Option(..., help="Why the deal was lost."),
    note: str | None = typer.Option(None, help='In the seller\'s own words, e.g. for reason "Other".'),
    actor_id: int = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Close a deal as lost, with a reason."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        deal = await crm.deals.mark_lost(deal_id=deal_id, reason=reason, note=note, actor=actor)
        await _show_deal(crm, actor, deal, as_json)

    with_crm(go)


@app.command("reopen")
def reopen(
    deal_id: int = typer.Argument(...), actor_id: int = AS_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Reopen a won or lost deal, in the stage it was closed from."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        await _show_deal(crm, actor, await crm.deals.reopen(deal_id=deal_id, actor=actor), as_json)

    with_crm(go)


@app.command("history")
def history(
    deal_id: int = typer.Argument(...), actor_id: int = AS_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Everything that happened to a deal, oldest first."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        events = await crm.deals.history(deal_id=deal_id, actor=actor)
        names = {s.id: s.name for p in await crm.pipelines.list() for s in p.stages}
        if as_json:
            print_json(await history_json(crm, events))
            return
        rows = []
        undone = {e.id: f"{e.kind.value} of {iso(e.at)}" for e in events}
        for e in events:
            move = " → ".join(
                n for n in (names.get(e.from_stage_id or 0), names.get(e.to_stage_id or 0)) if n
            )
            detail = ", ".join(
                f"{k}={v}"
                for k, v in e.data.items()
                if k not in UNDO_DETAILS and (k != "title" or e.kind.value != "created")
            )
            if e.undoes_id is not None and e.undoes_id in undone:
                detail = ", ".join(part for part in (detail, f"undoes the {undone[e.undoes_id]}") if part)
            rows.append([iso(e.at), e.kind.value, e.actor_name or e.actor_system or "", move, detail])
        print_table(["at", "event", "by", "stage", "details"], rows)

    with_crm(go)
