"""Driving the `kanbot` command in-process, as an admin would type it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from kanbot.cli import app

BOSS, ALICE, BOB = 100, 201, 202


@dataclass
class Kanbot:
    """``kanbot ...`` against one database; ``env`` adds or overrides settings for a call."""

    database_url: str
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, *args: object, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        return self.runner.invoke(
            app,
            [str(a) for a in args],
            env={"KANBOT_DATABASE_URL": self.database_url, **(env or {})},
            input=input,
        )

    def ok(self, *args: object) -> Result:
        """Run a command that must succeed."""
        result = self(*args)
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}{result.exception or ''}"
        return result

    def json(self, *args: object) -> Any:
        """Run a command with ``--json`` and read what it printed."""
        return json.loads(self.ok(*args, "--json").stdout)

    def refused(self, *args: object, code: int = 1) -> str:
        """Run a command that must fail; return its message, checked to be one sentence on stderr alone."""
        result = self(*args)
        assert result.exit_code == code, f"exit {result.exit_code}: {result.stdout}{result.stderr}"
        assert result.stdout == ""
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result.stderr.strip()


def shown_funnel(kanbot: Kanbot) -> dict[str, Any]:
    """`kanbot pipeline show`, read back as the YAML document it prints."""
    import yaml

    document = yaml.safe_load(kanbot.ok("pipeline", "show").stdout)
    assert isinstance(document, dict)
    return document


def write_yaml(path: Path, document: object) -> Path:
    """``document`` written to ``path`` as a funnel file is."""
    import yaml

    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
