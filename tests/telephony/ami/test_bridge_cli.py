"""``kanbot bridge``: what a PBX admin runs to check a setup, and how it reports mistakes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kanbot.cli.bridge import app

from .helpers import AMI_USER, CALLS_SECRET, DATA, REPO, SHARED_CAPTURES, FakeAmi, expected_for

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_site_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The defaults, whatever the machine running the tests has in its environment or ``.env``."""
    monkeypatch.chdir(tmp_path)
    for name in ("AMI_INBOUND_CONTEXTS", "AMI_TRUNK_PATTERN", "AMI_EXTENSION_PATTERN", "DEFAULT_REGION"):
        monkeypatch.delenv(f"KANBOT_{name}", raising=False)


def said(output: str) -> str:
    """The output as one line of words, whatever box and wrapping the terminal rendering added."""
    return " ".join(output.replace("│", " ").split())


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_replay_prints_one_json_line_per_finished_call() -> None:
    result = runner.invoke(app, ["replay", str(DATA / "blind_transfer.txt")])
    assert result.exit_code == 0, result.output
    assert lines(result.output) == [
        call for call in expected_for(DATA / "blind_transfer.txt") if call["ended_at"]
    ]


@pytest.mark.skipif(
    not SHARED_CAPTURES.is_dir(), reason=f"the real captures are not here ({SHARED_CAPTURES})"
)
def test_replay_takes_the_sites_contexts_trunks_and_region_as_options() -> None:
    capture = SHARED_CAPTURES / "ami_queue_inbound_answered.json"
    options = ["--inbound-context", "voipgrid_in", "--trunk-pattern", "^SIP/voipgrid-siproute-docker-"]
    result = runner.invoke(app, ["replay", *options, "--region", "NL", str(capture)])
    assert result.exit_code == 0, result.output
    [call] = lines(result.output)
    assert (call["direction"], call["status"], call["caller"], call["answered_by"]) == (
        "inbound",
        "answered",
        "+31150010001",
        "150010002",
    )


def test_replay_reads_its_defaults_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANBOT_AMI_TRUNK_PATTERN", "^PJSIP/sipnet-")
    monkeypatch.setenv("KANBOT_AMI_INBOUND_CONTEXTS", "from-somewhere-else")
    result = runner.invoke(app, ["replay", str(DATA / "answered_direct.txt")])
    [call] = lines(result.output)
    assert call["direction"] == "inbound"  # the trunk pattern alone makes the first channel an outsider


def test_replay_refuses_an_invalid_pattern_with_a_readable_error() -> None:
    result = runner.invoke(app, ["replay", "--trunk-pattern", "(", str(DATA / "answered_direct.txt")])
    assert result.exit_code == 2
    assert "invalid trunk pattern" in said(result.output)


def test_replay_refuses_a_region_that_is_no_country_code() -> None:
    result = runner.invoke(app, ["replay", "--region", "Russia", str(DATA / "answered_direct.txt")])
    assert result.exit_code == 2
    assert "two-letter country code" in said(result.output)


def test_replay_of_a_file_that_is_no_capture_prints_nothing() -> None:
    result = runner.invoke(app, ["replay", str(REPO / "pyproject.toml")])
    assert (result.exit_code, result.output) == (0, "")


def test_the_ami_command_says_what_is_missing_before_connecting_anywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AMI_USERNAME", "AMI_SECRET", "CRM_URL", "CALLS_SECRET"):
        monkeypatch.delenv(f"KANBOT_{name}", raising=False)
    result = runner.invoke(app, ["ami", "--host", "127.0.0.1", "--username", "kanbot"])
    assert result.exit_code == 2
    assert "KANBOT_AMI_SECRET (--secret)" in said(result.output)
    assert "KANBOT_CRM_URL (--crm-url)" in said(result.output)
    assert "KANBOT_CALLS_SECRET (--crm-secret)" in said(result.output)
    assert "KANBOT_AMI_USERNAME" not in said(result.output)


def test_the_ami_command_refuses_a_placeholder_secret() -> None:
    result = runner.invoke(app, ["ami", "--username", "kanbot", "--secret", "changeme"])
    assert result.exit_code == 2
    assert "Invalid setting KANBOT_AMI_SECRET: is a placeholder" in said(result.output)


def test_the_ami_command_names_the_variables_of_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANBOT_AMI_SECRET", "short")
    monkeypatch.setenv("KANBOT_AMI_PORT", "not-a-port")
    result = runner.invoke(app, ["ami", "--username", "kanbot"])
    assert result.exit_code == 2
    assert "Invalid setting KANBOT_AMI_SECRET: is 5 characters long" in said(result.output)
    assert "Invalid setting KANBOT_AMI_PORT:" in said(result.output)


def test_the_bridge_app_has_its_three_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert all(command in result.output for command in ("replay", "parse", "ami"))


GENERIC = REPO / "tests" / "data" / "webhooks" / "generic" / "inbound_missed.json"


def test_parse_prints_the_call_of_a_saved_webhook_payload() -> None:
    result = runner.invoke(app, ["parse", "--provider", "generic", str(GENERIC)])
    assert result.exit_code == 0, result.output
    [call] = lines(result.output)
    assert call["status"] == "missed"


def test_parse_reports_a_payload_it_cannot_read(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = runner.invoke(app, ["parse", "--provider", "generic", str(broken)])
    assert result.exit_code == 2
    assert "Not a valid generic payload" in said(result.output)


@pytest.mark.slow
async def test_the_running_bridge_logs_json_lines_without_its_secrets(
    fake_ami: FakeAmi, tmp_path: Path
) -> None:
    """`kanbot bridge ami` logs as `kanbot run` does: KANBOT_LOG_FORMAT, and no secret in any line."""
    wrong_secret = "n0t-the-ami-secret-but-still-secret"
    env = {
        **os.environ,
        "KANBOT_LOG_FORMAT": "json",
        "KANBOT_LOG_LEVEL": "DEBUG",
        "KANBOT_AMI_SECRET": wrong_secret,
        "KANBOT_CALLS_SECRET": CALLS_SECRET,
    }
    kanbot = shutil.which("kanbot", path=str(Path(sys.executable).parent)) or "kanbot"
    options = ["--host", "127.0.0.1", "--port", str(fake_ami.port), "--username", AMI_USER]
    options += ["--crm-url", "http://127.0.0.1:9", "--spool", str(tmp_path / "spool.sqlite")]
    bridge = await asyncio.create_subprocess_exec(
        kanbot,
        "bridge",
        "ami",
        *options,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake_ami.wait_for_refusals(2, timeout_s=120)  # refused, and tried again
    finally:
        bridge.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(bridge.communicate(), 10)
    text = output.decode()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert entries and all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    assert any("AMI" in entry["message"] for entry in entries), text  # the refusal was logged
    assert wrong_secret not in text and CALLS_SECRET not in text
