"""docs/api.md's examples, run: its `kanbot token create` makes the token, and each `curl` is sent as
written to the real server, answering the status the doc shows (``# → 201``). The doc cannot rot."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

from tests.api.support import Api

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
STATUS = re.compile(r"#\s*→\s*(\d{3})")


def examples() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def curl_request(command: str, variables: dict[str, str]) -> dict[str, Any]:
    """A curl command line as aiohttp's request arguments (the options the doc uses)."""
    for name, value in variables.items():
        command = command.replace(f"${name}", value)
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl", command
    request: dict[str, Any] = {"method": "GET", "headers": {}, "data": None}
    args = iter(words[1:])
    for word in args:
        if word == "-s":
            continue
        if word == "-X":
            request["method"] = next(args)
        elif word == "-H":
            name, _, value = next(args).partition(":")
            request["headers"][name.strip()] = value.strip()
        elif word in ("-d", "--data"):
            request["data"] = next(args).encode()
            if request["method"] == "GET":
                request["method"] = "POST"
        elif word.startswith("http"):
            request["url"] = word
        else:
            raise AssertionError(f"docs/api.md uses a curl option the test does not know: {word}")
    return request


async def kanbot_command(line: str, database_url: str) -> str:
    """Run a `kanbot ...` line of the doc as a real command against the server's database."""
    words = shlex.split(line)
    assert words[0] == "kanbot", line
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "KANBOT_DATABASE_URL": database_url,
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "kanbot"),
        *words[1:],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_docs_examples_answer_as_the_doc_says(api: Api, database_url: str) -> None:
    variables = {"KANBOT": api.url}
    ran = 0
    for block in examples():
        if block.startswith("export "):
            continue
        if block.startswith("kanbot token create"):
            made = json.loads(await kanbot_command(block.strip(), database_url))
            assert made["token"].startswith("kbt_") and made["scope"] == "write" and made["expires_at"]
            variables["TOKEN"] = made["token"]
            continue
        status = STATUS.search(block)
        assert status is not None, f"an example without its status: {block}"
        command = block[: status.start()].strip()
        request = curl_request(command, variables)
        url = request.pop("url")
        async with api.session.request(request.pop("method"), url, **request) as response:
            body = await response.json(content_type=None)
            assert response.status == int(status.group(1)), (command, body)
        if response.status == 201 and url.endswith("/api/v1/deals"):
            variables["DEAL_ID"] = str(body["id"])
            assert body["contact"] == {"name": "Ivan Petrov", "phone": "+74951234567"}
        if response.status == 200 and "/api/v1/contacts?" in url:
            variables["CONTACT_ID"] = str(body["items"][0]["id"])
        if response.status == 200 and "/api/v1/contacts/" in url:
            assert body["company"] == "ACME Ltd" and body["name"] == "Ivan Petrov"
        if response.status == 201 and url.endswith("/api/v1/tasks"):
            variables["TASK_ID"] = str(body["id"])
            assert body["text"] == "Send the invoice" and body["deal_id"] == int(variables["DEAL_ID"])
        ran += 1
    assert "TOKEN" in variables and ran >= 20
