"""``kanbot run`` started without the CLI framework: the long-running process imports neither Typer
nor the migrations, so what it keeps resident is what it runs on. ``kanbot run --help`` and every
other command go through the Typer app (``kanbot.cli.commands``)."""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import NoReturn

RUNTIMES = ("ptb", "aiogram")


def plain_run(argv: list[str]) -> tuple[bool, str | None]:
    """Whether ``argv`` (without the program) is a plain ``run [--runtime NAME]``, and the runtime."""
    if not argv or argv[0] != "run":
        return False, None
    rest = argv[1:]
    if not rest:
        return True, None
    if len(rest) == 2 and rest[0] == "--runtime":
        return True, rest[1]
    if len(rest) == 1 and rest[0].startswith("--runtime="):
        return True, rest[0].partition("=")[2]
    return False, None


def fail(message: str, code: int = 1) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def exit_promptly() -> None:
    """Leave the objects of a stopped process to the kernel instead of a last garbage collection.

    Once ``process.run`` has returned, everything is closed (updates, outbox, database, HTTP). What is
    left is the interpreter's own teardown, whose collections walk every object the frameworks built at
    import (aiogram's and Telegram's models): a fraction of a second on an idle machine, but 5 to 8 s on
    a loaded one, which took a SIGTERMed process past the 10 s that systemd and Compose allow. Frozen
    objects are skipped by those collections; exit handlers and stream flushing still run.
    """
    gc.freeze()


def start(runtime: str | None) -> None:
    """Run Kanbot: the bot (long polling, or webhook when KANBOT_WEBHOOK_URL is set), HTTP server, outbox."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    from bot.settings import MissingToken, MissingWebhookSecret
    from crm_core.domain.errors import CrmError
    from kanbot import dialing, process
    from kanbot.app import NotReady
    from kanbot.logs import setup_logging
    from kanbot.settings import SettingError, Settings, describe_validation_error

    try:
        settings = Settings()
    except ValidationError as error:
        fail(describe_validation_error(error))
    ami = settings.ami  # a process that reads them later must not find a bad one only then
    try:
        dialing.check(settings.dial, ami_configured=bool(ami.ami_username and ami.ami_secret))
    except SettingError as error:
        fail(str(error))
    if runtime is not None:
        if runtime not in RUNTIMES:
            fail(f"--runtime {runtime!r}: choose ptb or aiogram.", 2)
        settings.telegram.runtime = runtime  # type: ignore[assignment]
    setup_logging(settings.core.log_level, settings.core.log_format)
    try:
        settings.telegram.token()
        settings.telegram.webhook_secret_value()
    except (MissingToken, MissingWebhookSecret) as error:
        fail(str(error))
    try:
        asyncio.run(process.run(settings))
        exit_promptly()
    except (CrmError, NotReady, SettingError) as error:
        fail(str(error))
    except ValidationError as error:
        fail(describe_validation_error(error))
    except DBAPIError as error:
        fail(f"The database cannot be reached or used: {error.orig}.")
    except OSError as error:
        fail(f"{error.strerror or error}: {error.filename}" if error.filename else str(error))
