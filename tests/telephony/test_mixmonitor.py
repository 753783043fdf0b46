"""Asterisk's MixMonitor files: named after the call's id, read once complete, never outside their
directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from telephony_bridge.recordings.mixmonitor import MixMonitorFiles
from telephony_bridge.settings import AmiSettings


def test_a_call_id_names_its_file_and_nothing_else_does(tmp_path: Path) -> None:
    files = MixMonitorFiles(tmp_path, "rec-{call_id}.wav")
    assert files.name_for("1716531234.12") == "rec-1716531234.12.wav"
    for forged in ("../../etc/passwd", "a/b", ".hidden", "x..y", "", "a" * 200, "1716531234.12\n"):
        assert files.name_for(forged) is None, forged
    assert files.complete("../kanbot.db") is None


def test_a_file_is_complete_once_mixmonitor_stopped_writing_it(tmp_path: Path) -> None:
    files = MixMonitorFiles(tmp_path, settle_s=2.0)
    path = tmp_path / "1716531234.12.wav"
    path.write_bytes(b"RIFF")
    written = path.stat().st_mtime
    assert files.complete(path.name, now=written + 1) is None  # still growing, perhaps
    assert files.complete(path.name, now=written + 3) == b"RIFF"
    assert files.complete("1716531234.13.wav", now=written + 3) is None
    os.utime(path, (written - 7200, written - 7200))
    assert files.recent(3600, now=written) == []
    assert files.recent(3 * 3600, now=written) == ["1716531234.12"]


@pytest.mark.parametrize("template", ["{call_id}/x.wav", "x.wav", "{call_id}-{call_id}.wav", "{channel}.wav"])
def test_a_recording_file_template_without_exactly_one_call_id_is_refused(template: str) -> None:
    with pytest.raises(ValidationError, match="ami_recording_file"):
        AmiSettings(_env_file=None, ami_recording_file=template)  # type: ignore[call-arg]
