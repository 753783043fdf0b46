"""The README's walkthrough, typed into a shell: the real `kanbot` executable on a fresh database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the README's commands, each a `kanbot` process


def executable() -> str:
    beside_python = Path(sys.executable).with_name("kanbot")  # the virtualenv's, even when not on PATH
    found = str(beside_python) if beside_python.exists() else shutil.which("kanbot")
    if found is None:
        pytest.fail("the kanbot executable is not installed (pip install -e .)")
    return found


def test_the_readme_walkthrough_runs_as_written(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KANBOT_")} | {
        "KANBOT_DATABASE_URL": database_url
    }
    kanbot = executable()

    def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [kanbot, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False
        )
        assert done.returncode == expect, f"kanbot {' '.join(args)} -> {done.returncode}: {done.stderr}"
        return done

    init = run("init", "--boss-telegram-id", "1001", "--boss-name", "Olga")
    assert "Boss: Olga (Telegram id 1001)" in init.stdout
    run(
        "user",
        "add",
        "--telegram-id",
        "2001",
        "--name",
        "Ali",
        "--role",
        "seller",
        "--extension",
        "101",
        "--tz",
        "Europe/Moscow",
    )
    run(
        "user",
        "add",
        "--telegram-id",
        "2002",
        "--name",
        "Maria",
        "--role",
        "seller",
        "--extension",
        "102",
        "--locale",
        "ru",
    )
    acme = json.loads(
        run(
            "deal",
            "add",
            "--as",
            "2001",
            "--title",
            "ACME: 20 IP phones",
            "--contact-name",
            "Ivan Petrov",
            "--phone",
            "8 495 123-45-67",
            "--amount",
            "1 500,50",
            "--json",
        ).stdout
    )
    assert (acme["id"], acme["amount"], acme["contact"]) == (
        1,
        "1500.50",
        {"name": "Ivan Petrov", "phone": "+74951234567"},
    )
    run("deal", "add", "--as", "2002", "--title", "Globex PBX upgrade", "--amount", "4200")
    run("deal", "move", "1", "--to", "Commercial offer", "--as", "2001")
    run("deal", "won", "1", "--as", "2001")
    run("deal", "lost", "2", "--reason", "Price", "--as", "2002")
    refused = run("deal", "show", "2", "--as", "2001", expect=1)
    assert (refused.stdout, refused.stderr) == ("", "No deal 2 was found.\n")
    conversion = run("report", "conversion", "--as", "1001", "--period", "30d")
    assert conversion.stdout.splitlines()[0].split()[:3] == ["stage", "entered", "advanced"]
    sellers = json.loads(run("report", "sellers", "--as", "1001", "--json").stdout)["sellers"]
    assert [
        (s["name"], s["open_count"], s["won_count"], s["won_amount"], s["lost_count"]) for s in sellers
    ] == [
        ("Ali", 0, 1, "1500.50", 0),
        ("Maria", 0, 0, "0.00", 1),
    ]
