"""Operating Kanbot: `serve --web/--worker`, `webhook set|delete|info`, `doctor`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError

from bot.settings import NO_WEBHOOK_SECRET, WEBHOOK_SECRET_MIN, MissingToken, TelegramSettings
from kanbot.cli.common import fail, print_json
from kanbot.cli.common import run as run_async
from kanbot.cli.launch import exit_promptly
from kanbot.cli.serve import check_can_start, load_all
from kanbot.logs import setup_logging
from kanbot.settings import (
    CoreSettings,
    ServerSettings,
    describe_validation_errors,
)

if TYPE_CHECKING:
    from telephony_bridge.settings import AmiSettings, CloudPbxSettings

webhook_app = typer.Typer(help="The Telegram webhook: set, delete, inspect.", no_args_is_help=True)


def serve(
    web: bool = typer.Option(
        False, "--web", help="Only the HTTP side: Telegram webhook, call endpoints, health."
    ),
    worker: bool = typer.Option(False, "--worker", help="Only the scheduler and the outbox delivery."),
) -> None:
    """Run one role of a multi-process installation (PostgreSQL): several --web behind a load balancer,
    and --worker processes of which one leads and the others stand by."""
    from kanbot import process

    if web == worker:
        fail("Choose one role: `kanbot serve --web` or `kanbot serve --worker` (`kanbot run` runs both).", 2)
    settings = load_all()
    setup_logging(settings.core.log_level, settings.core.log_format)
    check_can_start(settings)
    if web and not settings.telegram.webhook_url:
        fail(
            "`kanbot serve --web` takes updates through the webhook: "
            "set KANBOT_WEBHOOK_URL (and KANBOT_WEBHOOK_SECRET)."
        )
    run_async(lambda: process.run(settings, web_role=web, worker_role=worker))
    exit_promptly()


def _bot_call(work: Callable[[object], Awaitable[object]]) -> object:
    from bot.aiogram_runtime import aiogram_bot

    settings = load_all()
    try:
        token = settings.telegram.token()
    except MissingToken as error:
        fail(str(error))

    async def go() -> object:
        bot = aiogram_bot(token, settings.telegram.telegram_api_url)
        try:
            return await work(bot)
        finally:
            await bot.session.close()

    return run_async(go)


@webhook_app.command("set")
def webhook_set() -> None:
    """Point Telegram at KANBOT_WEBHOOK_URL, with KANBOT_WEBHOOK_SECRET as the secret token."""
    from bot.aiogram_runtime import AiogramRuntime

    settings = load_all()
    if not settings.telegram.webhook_url:
        fail("KANBOT_WEBHOOK_URL is not set: it is the public https:// address Telegram posts updates to.")
    if settings.telegram.webhook_secret is None:
        fail(NO_WEBHOOK_SECRET)

    url, secret = settings.telegram.webhook_url, settings.telegram.webhook_secret.get_secret_value()

    async def work(bot: object) -> object:
        await AiogramRuntime(bot).set_webhook(url, secret)  # type: ignore[arg-type]
        return None

    _bot_call(work)
    typer.echo(f"Webhook set to {settings.telegram.webhook_url}")


@webhook_app.command("delete")
def webhook_delete(
    drop_pending: bool = typer.Option(False, "--drop-pending", help="Drop waiting updates."),
) -> None:
    """Stop webhook delivery (back to long polling)."""

    async def work(bot: object) -> object:
        return await bot.delete_webhook(drop_pending_updates=drop_pending)  # type: ignore[attr-defined]

    _bot_call(work)
    typer.echo("Webhook deleted.")


@webhook_app.command("info")
def webhook_info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """What Telegram knows of the webhook: URL, pending updates, the last error."""

    async def work(bot: object) -> object:
        return await bot.get_webhook_info()  # type: ignore[attr-defined]

    info = _bot_call(work)
    data = info.model_dump(exclude_none=True, mode="json")  # type: ignore[attr-defined]
    if as_json:
        print_json(data)
        return
    typer.echo(f"url: {data.get('url') or '(none: long polling)'}")
    typer.echo(f"pending updates: {data.get('pending_update_count', 0)}")
    if data.get("last_error_message"):
        typer.echo(f"last error: {data['last_error_message']} (at {data.get('last_error_date')})")


class Check:
    def __init__(self) -> None:
        self.failed = 0

    def ok(self, name: str, detail: str) -> None:
        typer.echo(f"✓ {name}: {detail}")

    def bad(self, name: str, problem: str, fix: str) -> None:
        self.failed += 1
        typer.echo(f"✗ {name}: {problem}\n    → {fix}")

    def note(self, name: str, detail: str) -> None:
        typer.echo(f"· {name}: {detail}")


def doctor() -> None:
    """Check the settings, the database, the Telegram token and webhook, the AMI link and the clock."""
    check = Check()
    settings = _check_settings(check)
    if settings is not None:
        run_async(lambda: _check_services(check, settings))
    if check.failed:
        typer.echo(f"\n{check.failed} problem(s) found.")
        raise typer.Exit(1)
    typer.echo("\nAll checks passed.")


def _check_settings(check: Check) -> object | None:
    from kanbot.settings import Settings
    from telephony_bridge.settings import AmiSettings, CloudPbxSettings

    before, problems = check.failed, set()
    for kind in (CoreSettings, TelegramSettings, ServerSettings, CloudPbxSettings, AmiSettings):
        try:
            kind()
        except ValidationError as error:
            for problem in describe_validation_errors(error):
                if problem in problems:  # a setting several components read is reported once
                    continue
                problems.add(problem)
                check.bad(
                    "settings",
                    problem,
                    "fix it in .env or the environment; .env.example explains each setting",
                )
    if check.failed > before:
        return None
    try:
        settings = Settings()
        settings.core.crm_config()
    except Exception as error:  # whatever it is, the doctor reports it
        check.bad(
            "settings", str(error).splitlines()[0], "fix it in .env or the environment (see .env.example)"
        )
        return None
    check.ok("settings", "read and valid")
    _check_zadarma(check, settings.cloud)
    if settings.telegram.webhook_url and settings.telegram.webhook_secret is None:
        check.bad(
            "webhook",
            "KANBOT_WEBHOOK_URL is set without KANBOT_WEBHOOK_SECRET: anyone could post updates as any user, "
            "so Kanbot refuses to start",
            f"set KANBOT_WEBHOOK_SECRET to {WEBHOOK_SECRET_MIN}-256 characters of A-Z, a-z, 0-9, _ and - "
            "(`openssl rand -hex 32`), then run `kanbot webhook set`",
        )
    return settings


def _check_zadarma(check: Check, cloud: CloudPbxSettings) -> None:
    """Zadarma signs only part of a notification: its senders' addresses are the second lock."""
    if cloud.zadarma_secret is None:
        return
    if cloud.zadarma_allowed_ips:
        allowed = ", ".join(str(network) for network in cloud.zadarma_allowed_ips)
        check.ok("zadarma", f"notifications accepted from {allowed} only")
    else:
        check.note(
            "zadarma",
            "KANBOT_ZADARMA_ALLOWED_IPS is not set: notifications are accepted from any address "
            "(docs/telephony-cloud.md gives Zadarma's)",
        )


async def _check_services(check: Check, settings: object) -> None:
    from crm_core.adapters import migrate
    from crm_core.adapters.database import Database
    from kanbot.settings import Settings

    assert isinstance(settings, Settings)
    db = Database(settings.core.database_url)
    try:
        revisions = await migrate.current_revisions(db)
        if revisions == migrate.head_revisions():
            check.ok("database", f"{db.url.get_backend_name()} reachable, schema up to date")
        else:
            check.bad("database", "the schema is behind the code", "run `kanbot db upgrade`")
        if not db.is_sqlite:
            async with db.engine.connect() as conn:
                from sqlalchemy import text

                server_now = await conn.scalar(text("SELECT now()"))
            _check_skew(check, "database clock", server_now)
    except Exception as error:
        check.bad(
            "database",
            f"cannot connect ({type(error).__name__}: {str(error).splitlines()[0][:120]})",
            "check KANBOT_DATABASE_URL and that the database server is running",
        )
    finally:
        await db.dispose()
    await _check_telegram(check, settings)
    await _check_ami(check, settings.ami)


async def _check_telegram(check: Check, settings: object) -> None:
    from bot.aiogram_runtime import aiogram_bot
    from kanbot.settings import Settings

    assert isinstance(settings, Settings)
    try:
        token = settings.telegram.token()
    except MissingToken as error:
        check.bad("telegram", str(error).split(":")[0], str(error).split(": ", 1)[-1])
        return
    bot = aiogram_bot(token, settings.telegram.telegram_api_url)
    try:
        me = await asyncio.wait_for(bot.get_me(), timeout=10)
        check.ok("telegram", f"the token works: @{me.username}")
        info = await bot.get_webhook_info()
        wanted = settings.telegram.webhook_url
        if wanted and info.url != wanted:
            check.bad(
                "webhook",
                f"Telegram posts to {info.url or 'nowhere'} but KANBOT_WEBHOOK_URL is {wanted}",
                "run `kanbot webhook set`",
            )
        elif not wanted and info.url:
            check.bad(
                "webhook",
                f"a webhook is set ({info.url}) but Kanbot is in long-polling mode",
                "run `kanbot webhook delete`, or set KANBOT_WEBHOOK_URL",
            )
        elif info.last_error_message:
            check.bad(
                "webhook",
                f"Telegram's last delivery failed: {info.last_error_message}",
                "check the reverse proxy and that `kanbot serve --web` is reachable at the URL",
            )
        else:
            check.ok(
                "webhook", f"{info.url} ({info.pending_update_count} pending)" if wanted else "long polling"
            )
        from email.utils import parsedate_to_datetime

        import aiohttp

        base = (settings.telegram.telegram_api_url or "https://api.telegram.org").rstrip("/")
        async with aiohttp.ClientSession() as http, http.get(f"{base}/bot{token}/getMe") as response:
            if "Date" in response.headers:
                _check_skew(check, "clock", parsedate_to_datetime(response.headers["Date"]))
    except Exception as error:
        check.bad(
            "telegram",
            f"{type(error).__name__}: {str(error)[:120]}",
            "check KANBOT_BOT_TOKEN (from @BotFather) and that this machine reaches Telegram "
            "(or KANBOT_TELEGRAM_API_URL)",
        )
    finally:
        await bot.session.close()


def _check_skew(check: Check, name: str, remote: datetime) -> None:
    skew = abs((datetime.now(UTC) - remote.astimezone(UTC)).total_seconds())
    if skew > 60:
        check.bad(
            name, f"this machine's clock is {skew:.0f} s off", "enable time synchronisation (NTP, chrony)"
        )
    else:
        check.ok(name, f"within {max(skew, 1):.0f} s")


async def _check_ami(check: Check, ami: AmiSettings) -> None:
    """Asterisk's AMI answers where the settings (read once, with the others) say it is."""
    if not ami.ami_username:
        check.note("asterisk", "not configured (KANBOT_AMI_USERNAME unset)")
        return
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(ami.ami_host, ami.ami_port), timeout=5
        )
        banner = (await asyncio.wait_for(reader.readline(), timeout=5)).decode(errors="replace").strip()
        writer.close()
        if not banner.startswith("Asterisk Call Manager"):
            check.bad(
                "asterisk",
                f"{ami.ami_host}:{ami.ami_port} answers, but not as AMI ({banner[:40]!r})",
                "check KANBOT_AMI_HOST/KANBOT_AMI_PORT (manager.conf: port = 5038)",
            )
        else:
            check.ok(
                "asterisk",
                f"{banner} at {ami.ami_host}:{ami.ami_port} ({(time.monotonic() - started) * 1000:.0f} ms)",
            )
    except (OSError, TimeoutError) as error:
        check.bad(
            "asterisk",
            f"cannot reach {ami.ami_host}:{ami.ami_port} ({type(error).__name__})",
            "check manager.conf (enabled = yes, bindaddr) and the firewall between Kanbot and Asterisk",
        )
