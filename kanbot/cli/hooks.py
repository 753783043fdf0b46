"""`kanbot hooks ...`: outgoing webhooks (the command line acts as an admin)."""

from __future__ import annotations

from typing import Any

import typer

from crm_core.domain.webhooks import Delivery, Endpoint
from crm_core.services import Crm
from kanbot.cli.common import JSON_OPTION, print_json, print_table, with_crm
from kanbot.cli.render import iso
from kanbot.webhooks import ADMIN

app = typer.Typer(help="Outgoing webhooks: add, list, remove, test, log.", no_args_is_help=True)


def endpoint_json(endpoint: Endpoint, *, secret: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "created_at": iso(endpoint.created_at),
    }
    return shown | ({"secret": endpoint.secret} if secret else {})


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "url": delivery.url,
        "event": delivery.event,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "occurred_at": iso(delivery.occurred_at),
        "created_at": iso(delivery.created_at),
        "next_try_at": iso(delivery.next_try_at),
        "settled_at": iso(delivery.settled_at),
        "last_error": delivery.last_error,
    }


@app.command("add")
def add(
    url: str = typer.Argument(..., help="Where to post: an http:// or https:// address."),
    events: str = typer.Option(..., "--events", help="Comma-separated, e.g. deal.created,deal.won."),
    secret: str | None = typer.Option(None, "--secret", help="The signing secret (default: a new one)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Register an endpoint; its signing secret is printed (keep it: the receiver verifies with it)."""

    async def go(crm: Crm) -> None:
        endpoint = await crm.webhooks.add(actor=ADMIN, url=url, events=events, secret=secret)
        if as_json:
            print_json(endpoint_json(endpoint, secret=True))
            return
        typer.echo(f"Webhook {endpoint.id}: {endpoint.url} ({', '.join(endpoint.events)})")
        typer.echo(f"Signing secret: {endpoint.secret}")

    with_crm(go)


@app.command("list")
def list_hooks(as_json: bool = JSON_OPTION) -> None:
    """List the endpoints (never their secrets)."""

    async def go(crm: Crm) -> None:
        endpoints = await crm.webhooks.endpoints(actor=ADMIN)
        if as_json:
            print_json([endpoint_json(e) for e in endpoints])
            return
        print_table(["id", "url", "events"], [[e.id, e.url, ",".join(e.events)] for e in endpoints])

    with_crm(go)


@app.command("remove")
def remove(endpoint_id: int = typer.Argument(..., help="The endpoint's id (hooks list).")) -> None:
    """Stop sending to an endpoint; what still waits for it is marked failed."""

    async def go(crm: Crm) -> None:
        endpoint = await crm.webhooks.remove(actor=ADMIN, endpoint_id=endpoint_id)
        typer.echo(f"Webhook {endpoint.id} removed ({endpoint.url}).")

    with_crm(go)


@app.command("test")
def send_test(endpoint_id: int = typer.Argument(..., help="The endpoint's id (hooks list).")) -> None:
    """Queue a signed "ping" to an endpoint; the running Kanbot sends it (see hooks log)."""

    async def go(crm: Crm) -> None:
        delivery_id = await crm.webhooks.test(actor=ADMIN, endpoint_id=endpoint_id)
        typer.echo(f"Ping {delivery_id} queued for webhook {endpoint_id}.")

    with_crm(go)


@app.command("log")
def log(
    failed: bool = typer.Option(False, "--failed", help="Only the deliveries given up on."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_json: bool = JSON_OPTION,
) -> None:
    """The latest deliveries, newest first: event, status, attempts, the last error."""

    async def go(crm: Crm) -> None:
        found = await crm.webhooks.log(actor=ADMIN, failed_only=failed, limit=limit)
        if as_json:
            print_json([delivery_json(d) for d in found])
            return
        rows = [
            [d.id, d.endpoint_id, d.event, d.status.value, d.attempts, iso(d.occurred_at), d.last_error or ""]
            for d in found
        ]
        print_table(["id", "hook", "event", "status", "attempts", "occurred_at", "last error"], rows)

    with_crm(go)
