"""`kanbot demo`: Kanbot offline — the Telegram emulator in the browser, demo data, the real bot."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from kanbot.cli.common import fail
from kanbot.demo.team import LANGUAGES
from kanbot.logs import setup_logging


def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (the page and Kanbot's HTTP server)."),
    port: int = typer.Option(8081, "--port", help="Port of the emulated Telegram: the page to open."),
    http_port: int = typer.Option(8080, "--http-port", help="Port of Kanbot's HTTP server (call webhooks)."),
    data_dir: Path = typer.Option(
        Path("var/demo"), "--data-dir", help="Where the demo database goes; it is made afresh on every start."
    ),
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="en, ru or ar: everyone speaks it, and deals, notes and tasks are written in it "
            "(without it, each demo person uses their own language).",
        ),
    ] = None,
) -> None:
    """Try Kanbot offline: a Telegram emulator in the browser, a demo team and deals, the real bot."""
    from kanbot.demo.run import DemoError, run_demo

    if lang is not None and lang not in LANGUAGES:
        fail(f"Unknown language {lang!r}: use en, ru or ar.")
    setup_logging("WARNING")  # the banner is what a newcomer should read; problems still show
    try:
        asyncio.run(
            run_demo(host=host, emulator_port=port, http_port=http_port, data_dir=data_dir, lang=lang)
        )
    except DemoError as error:
        fail(str(error))
