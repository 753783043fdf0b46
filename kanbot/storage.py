"""The database behind a running CRM, for what only the composition root does with it (locks, health)."""

from __future__ import annotations

from crm_core.adapters.database import Database
from crm_core.services import Crm


def database_of(crm: Crm) -> Database:
    """The SQLAlchemy database ``crm`` was built on (Kanbot always builds it on one)."""
    db = crm.db
    assert isinstance(db, Database), "Kanbot builds the CRM on its SQLAlchemy database"
    return db
