"""The deployment files are valid as their tools read them, and run the same commands the tests do."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


REQUIRED = {"POSTGRES_PASSWORD": "0123456789abcdef0123", "KANBOT_WEBHOOK_SECRET": "0123456789abcdef_webhook"}
NEEDS_COMPOSE = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (CI installs Debian's package: apt-get install docker-compose)",
)


def compose_config(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``docker-compose config`` with no .env file, and only ``env`` of the required variables."""
    environment = {k: v for k, v in os.environ.items() if k not in REQUIRED} | env
    return subprocess.run(
        ["docker-compose", "-f", str(DEPLOY / "docker-compose.yml"), "--profile", "asterisk", "config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=environment,
    )


@NEEDS_COMPOSE
def test_the_compose_file_passes_docker_compose_config_with_only_the_required_variables(
    tmp_path: Path,
) -> None:
    result = compose_config(tmp_path, **REQUIRED)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {"postgres", "web-1", "web-2", "worker-1", "worker-2", "ami-bridge", "caddy"} <= set(services)
    assert services["web-1"]["command"] == ["serve", "--web"]
    assert services["worker-2"]["command"] == ["serve", "--worker"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == REQUIRED["POSTGRES_PASSWORD"]
    for name in ("web-1", "worker-1", "ami-bridge"):
        environment = services[name]["environment"]
        assert environment["KANBOT_WEBHOOK_SECRET"] == REQUIRED["KANBOT_WEBHOOK_SECRET"]
        assert f"kanbot:{REQUIRED['POSTGRES_PASSWORD']}@postgres" in environment["KANBOT_DATABASE_URL"]


@NEEDS_COMPOSE
@pytest.mark.parametrize("missing", list(REQUIRED))
def test_the_compose_file_refuses_to_run_without_the_database_password_or_the_webhook_secret(
    tmp_path: Path, missing: str
) -> None:
    result = compose_config(tmp_path, **{k: v for k, v in REQUIRED.items() if k != missing})
    assert result.returncode != 0
    assert f"set {missing} in deploy/.env" in result.stderr


def test_the_compose_file_has_no_default_password_and_no_empty_default_secret() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text()
    for name in REQUIRED:
        assert f"${{{name}:?" in text
        assert f"${{{name}:-" not in text and f"${{{name}}}" not in text


def test_the_compose_file_keeps_the_bridge_behind_a_profile_and_every_kanbot_service_on_postgres() -> None:
    document = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = document["services"]
    assert services["ami-bridge"]["profiles"] == ["asterisk"]
    for name in ("web-1", "worker-1"):
        assert document["x-kanbot"]["environment"]["KANBOT_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert name in services


def test_every_setting_of_the_env_example_reaches_the_containers() -> None:
    """The containers get their settings only through the compose file's environment: one that is not
    listed there would be silently ignored, however it is set in .env."""
    example = (DEPLOY.parent / ".env.example").read_text()
    documented = set(re.findall(r"^#? *(KANBOT_[A-Z_]+)=", example, flags=re.MULTILINE))
    document = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    passed = set(document["x-kanbot"]["environment"]) | set(document["services"]["ami-bridge"]["environment"])
    assert len(documented) > 20, documented
    assert documented - passed == set()


def test_the_image_runs_as_a_non_root_user_and_upgrades_the_schema_before_its_command() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "USER kanbot" in dockerfile
    assert "kanbot db upgrade && exec kanbot" in dockerfile


@pytest.mark.parametrize("unit", ["kanbot.service", "kanbot-ami-bridge.service"])
def test_each_systemd_unit_upgrades_first_restarts_on_failure_and_uses_a_dedicated_user(unit: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string((DEPLOY / "systemd" / unit).read_text())
    service = parser["Service"]
    assert service["ExecStartPre"].endswith("kanbot db upgrade")
    assert service["Restart"] == "on-failure"
    assert service["User"] == "kanbot"
    assert service["ExecStart"].split("/")[-1] in ("kanbot run", "kanbot bridge ami")
