"""The recordings directory (``KANBOT_RECORDINGS_DIR``): calls' recordings as plain files.

The CRM names the files itself (``<recording id>.<mp3|wav|ogg|m4a>``), so nothing a PBX sends ends up
in a path. A file is written beside its final name and renamed into place: a reader never sees half.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_NAME = re.compile(r"^[0-9]{1,12}\.[a-z0-9]{1,4}$")


class DirectoryFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ValueError(f"not a recording's file name: {name!r}")
        return self.root / name

    def write(self, name: str, data: bytes) -> None:
        path = self._path(name)
        self.root.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{name}.part")
        partial.write_bytes(data)
        os.replace(partial, path)

    def read(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> bool:
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            return False
        return True
