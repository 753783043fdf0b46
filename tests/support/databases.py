"""Tests written for one database backend: the ``database_url`` fixture (tests/conftest.py) runs a test
on each backend in turn; these marks give it the one it is about."""

from __future__ import annotations

import pytest

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
