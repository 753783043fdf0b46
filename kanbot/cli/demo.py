"""`kanbot demo`: Kanbot offline — the Telegram emulator in the browser, demo data, the real bot."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from kanbot.cli.common import fail
from kanbot.logs import setup_logging


def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (the page and Kanbot's HTTP server)."),
    port: int = typer.Option(8081, "--port", help="Port of the emulated Telegram: the page to open."),
    http_port: int = typer.Option(8080, "--http-port", help="Port of Kanbot's HTTP server (call webhooks)."),
    data_dir: Path = typer.Option(
        Path("var/demo"), "--data-dir", help="Where the demo database goes; it is made afresh on every start."
    ),
) -> None:
    """Try Kanbot offline: a Telegram emulator in the browser, a demo team and deals, the real bot."""
    from kanbot.demo.run import DemoError, run_demo

    setup_logging("WARNING")  # the banner is what a newcomer should read; problems still show
    try:
        asyncio.run(run_demo(host=host, emulator_port=port, http_port=http_port, data_dir=data_dir))
    except DemoError as error:
        fail(str(error))
