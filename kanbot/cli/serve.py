"""`kanbot run`, `kanbot emulator`, `kanbot outbox`: running Kanbot."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from bot.settings import MissingToken, MissingWebhookSecret
from crm_core.services import Crm
from kanbot.cli import launch
from kanbot.cli.common import fail, print_json, with_crm
from kanbot.cli.common import run as run_async
from kanbot.settings import SettingError, Settings, describe_validation_error


def load_all() -> Settings:
    """Every component's settings, the Asterisk listener's included (a process that reads them later
    must not find a bad one only then); a bad one is one sentence naming it, and exit code 1."""
    from kanbot import dialing

    try:
        settings = Settings()
    except ValidationError as error:
        fail(describe_validation_error(error))
    ami = settings.ami
    try:
        dialing.check(settings.dial, ami_configured=bool(ami.ami_username and ami.ami_secret))
    except SettingError as error:
        fail(str(error))
    return settings


def check_can_start(settings: Settings) -> None:
    """Refuse to start without a bot token, or in webhook mode without its secret (one sentence)."""
    try:
        settings.telegram.token()
        settings.telegram.webhook_secret_value()
    except (MissingToken, MissingWebhookSecret) as error:
        fail(str(error))


def run(
    runtime: str | None = typer.Option(
        None, "--runtime", help="ptb (python-telegram-bot, the default) or aiogram."
    ),
) -> None:
    """Run Kanbot: the bot (long polling, or webhook when KANBOT_WEBHOOK_URL is set), HTTP server, outbox."""
    launch.start(runtime)  # what a plain `kanbot run` calls without Typer


def emulator(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8081, help="Port to listen on."),
) -> None:
    """Run the local Telegram emulator alone (open http://HOST:PORT/ in a browser)."""
    from telegram_emulator import run as run_emulator

    typer.echo(f"Telegram emulator on http://{host}:{port}/ (Ctrl+C stops it)")
    run_emulator(host, port)


def outbox(
    flush: bool = typer.Option(False, "--flush", help="Send what is due now, then exit."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show what waits in the outbox (and send it with --flush)."""
    settings = load_all()

    if flush:
        from kanbot.process import flush_outbox

        check_can_start(settings)

        sent = run_async(lambda: flush_outbox(settings))
        typer.echo(f"Sent {sent} notification(s).")

    async def show(crm: Crm) -> None:
        async with crm.db.uow(write=False) as uow:
            stats = await uow.outbox.stats(now=crm.clock.now())
            pending = await uow.outbox.pending(limit=20)
        if as_json:
            print_json({"stats": stats, "pending": pending})
            return
        typer.echo(
            "pending {pending}, sent {sent}, failed {failed}, dead {dead}; oldest pending {age:.0f} s".format(
                age=stats["oldest_pending_s"], **stats
            )
        )
        for row in pending:
            typer.echo(
                f"  #{row['id']} {row['kind']} → user {row['recipient_id']} (attempts {row['attempts']})"
                + (f": {row['last_error']}" if row["last_error"] else "")
            )

    with_crm(show)


def tick(
    now: str | None = typer.Option(
        None, "--now", help="Tick as if it were this time (ISO 8601, with offset)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run one scheduler tick by hand: queue due reminders, tasks, morning plans and digests; delete
    the recordings past their retention period and fetch those due."""
    from datetime import datetime

    from crm_core.ports import FixedClock, SystemClock
    from kanbot.app import open_crm
    from kanbot.recordings import build_fetchers, recording_files, recordings_tick
    from kanbot.scheduler import digest_tick, follow_up_tick

    settings = load_all()
    clock = SystemClock()
    if now is not None:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            fail(f"--now {now!r} is not an ISO 8601 time, e.g. 2026-03-02T09:00:00+03:00.")
        if moment.tzinfo is None:
            fail("--now needs a time zone offset, e.g. 2026-03-02T09:00:00+03:00.")
        clock = FixedClock(moment)  # type: ignore[assignment]

    async def go() -> dict[str, object]:
        files = recording_files(settings.core)
        async with open_crm(settings.core, clock=clock, recording_files=files) as crm:
            followups = await follow_up_tick(crm)
            digests = await digest_tick(crm)
            recordings = await recordings_tick(crm, build_fetchers(settings.dial, settings.ami))
        return {
            "at": clock.now().isoformat(),
            "reminders": followups.reminders,
            "reminded_deals": followups.reminded_deals,
            "escalations": followups.escalations,
            "tasks_due": followups.tasks_due,
            "repeats": followups.repeats,
            "morning_plans": followups.morning_plans,
            "digests": digests.digests,
            "recordings_fetched": recordings.fetched,
            "recordings_deleted": recordings.deleted,
            "details": followups.details + digests.details,
        }

    result = run_async(go)
    if as_json:
        print_json(result)
    else:
        typer.echo(
            ", ".join(f"{k} {v}" for k, v in result.items() if k not in ("details", "at"))
            + f" (at {result['at']})"
        )
        for line in result["details"]:  # type: ignore[attr-defined]
            typer.echo(f"  {line}")
