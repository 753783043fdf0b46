"""The ``kanbot`` command. A plain ``kanbot run`` starts without Typer (``launch``); everything else,
``kanbot run --help`` included, goes through the Typer app in ``commands``."""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    from kanbot.cli import launch

    plain, runtime = launch.plain_run(sys.argv[1:])
    if plain:
        launch.start(runtime)
        return
    from kanbot.cli.commands import app

    app()


def __getattr__(name: str) -> Any:
    """``kanbot.cli.app``: the Typer app, imported when asked for."""
    if name == "app":
        from kanbot.cli.commands import app

        return app
    raise AttributeError(name)
