"""board counts and search indexes: what keeps the board, search and lists fast at a million deals

``deal_counts`` holds, per stage and owner (0: nobody), how many deals there are and the sum of their
amounts, in four slots by deal id so that concurrent writers seldom wait for the same row. Triggers on
``deals`` keep it with every insert, move, reassignment, amount change and delete, so the board reads
a few hundred rows however many deals were ever won or lost. It is filled here from the deals there are.

Search: on SQLite, FTS5 trigram indexes of the deals' ``title_key`` and the contacts' ``name_key``
(external content, kept by triggers); on PostgreSQL, ``pg_trgm`` GIN indexes of the same columns.
Lists: an index on the order search results come in (open first, most recently active first), one
on a seller's open deals by their last activity, and one on a column's deals in the order they
entered the stage (its owner beside, so a seller's column is filtered in the index).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_core.adapters.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FILL_COUNTS = """
INSERT INTO deal_counts (stage_id, owner_key, slot, deals, amount)
SELECT stage_id, coalesce(owner_id, 0), id % 4, count(*), coalesce(sum(amount), 0)
FROM deals GROUP BY stage_id, coalesce(owner_id, 0), id % 4
"""

SQLITE_COUNT_TRIGGERS = (
    """
    CREATE TRIGGER deal_counts_insert AFTER INSERT ON deals BEGIN
        INSERT INTO deal_counts (stage_id, owner_key, slot, deals, amount)
        VALUES (NEW.stage_id, coalesce(NEW.owner_id, 0), NEW.id % 4, 1, coalesce(NEW.amount, 0))
        ON CONFLICT (stage_id, owner_key, slot)
        DO UPDATE SET deals = deals + 1, amount = amount + excluded.amount;
    END
    """,
    """
    CREATE TRIGGER deal_counts_delete AFTER DELETE ON deals BEGIN
        UPDATE deal_counts SET deals = deals - 1, amount = amount - coalesce(OLD.amount, 0)
        WHERE stage_id = OLD.stage_id AND owner_key = coalesce(OLD.owner_id, 0) AND slot = OLD.id % 4;
    END
    """,
    """
    CREATE TRIGGER deal_counts_update AFTER UPDATE OF stage_id, owner_id, amount ON deals
    WHEN OLD.stage_id IS NOT NEW.stage_id OR OLD.owner_id IS NOT NEW.owner_id
        OR OLD.amount IS NOT NEW.amount
    BEGIN
        UPDATE deal_counts SET deals = deals - 1, amount = amount - coalesce(OLD.amount, 0)
        WHERE stage_id = OLD.stage_id AND owner_key = coalesce(OLD.owner_id, 0) AND slot = OLD.id % 4;
        INSERT INTO deal_counts (stage_id, owner_key, slot, deals, amount)
        VALUES (NEW.stage_id, coalesce(NEW.owner_id, 0), NEW.id % 4, 1, coalesce(NEW.amount, 0))
        ON CONFLICT (stage_id, owner_key, slot)
        DO UPDATE SET deals = deals + 1, amount = amount + excluded.amount;
    END
    """,
)

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE deals_fts USING fts5("
    "title_key, content='deals', content_rowid='id', tokenize='trigram')",
    "CREATE VIRTUAL TABLE contacts_fts USING fts5("
    "name_key, content='contacts', content_rowid='id', tokenize='trigram')",
    """
    CREATE TRIGGER deals_fts_insert AFTER INSERT ON deals BEGIN
        INSERT INTO deals_fts (rowid, title_key) VALUES (NEW.id, NEW.title_key);
    END
    """,
    """
    CREATE TRIGGER deals_fts_delete AFTER DELETE ON deals BEGIN
        INSERT INTO deals_fts (deals_fts, rowid, title_key) VALUES ('delete', OLD.id, OLD.title_key);
    END
    """,
    """
    CREATE TRIGGER deals_fts_update AFTER UPDATE OF title_key ON deals
    WHEN OLD.title_key IS NOT NEW.title_key BEGIN
        INSERT INTO deals_fts (deals_fts, rowid, title_key) VALUES ('delete', OLD.id, OLD.title_key);
        INSERT INTO deals_fts (rowid, title_key) VALUES (NEW.id, NEW.title_key);
    END
    """,
    """
    CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
        INSERT INTO contacts_fts (rowid, name_key) VALUES (NEW.id, NEW.name_key);
    END
    """,
    """
    CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
        INSERT INTO contacts_fts (contacts_fts, rowid, name_key) VALUES ('delete', OLD.id, OLD.name_key);
    END
    """,
    """
    CREATE TRIGGER contacts_fts_update AFTER UPDATE OF name_key ON contacts
    WHEN OLD.name_key IS NOT NEW.name_key BEGIN
        INSERT INTO contacts_fts (contacts_fts, rowid, name_key) VALUES ('delete', OLD.id, OLD.name_key);
        INSERT INTO contacts_fts (rowid, name_key) VALUES (NEW.id, NEW.name_key);
    END
    """,
    "INSERT INTO deals_fts (deals_fts) VALUES ('rebuild')",
    "INSERT INTO contacts_fts (contacts_fts) VALUES ('rebuild')",
)

POSTGRES_COUNT_TRIGGER = (
    """
    CREATE FUNCTION deal_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE deal_counts SET deals = deals - 1, amount = amount - coalesce(OLD.amount, 0)
            WHERE stage_id = OLD.stage_id AND owner_key = coalesce(OLD.owner_id, 0) AND slot = OLD.id % 4;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO deal_counts (stage_id, owner_key, slot, deals, amount)
            VALUES (NEW.stage_id, coalesce(NEW.owner_id, 0), NEW.id % 4, 1, coalesce(NEW.amount, 0))
            ON CONFLICT (stage_id, owner_key, slot)
            DO UPDATE SET deals = deal_counts.deals + 1, amount = deal_counts.amount + excluded.amount;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER deal_counts_insert_delete AFTER INSERT OR DELETE ON deals
    FOR EACH ROW EXECUTE FUNCTION deal_counts_keep()
    """,
    """
    CREATE TRIGGER deal_counts_update AFTER UPDATE OF stage_id, owner_id, amount ON deals
    FOR EACH ROW WHEN (OLD.stage_id IS DISTINCT FROM NEW.stage_id
        OR OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.amount IS DISTINCT FROM NEW.amount)
    EXECUTE FUNCTION deal_counts_keep()
    """,
)

POSTGRES_SEARCH = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_deals_title_key_trgm ON deals USING gin (title_key gin_trgm_ops)",
    "CREATE INDEX ix_contacts_name_key_trgm ON contacts USING gin (name_key gin_trgm_ops)",
)


def upgrade() -> None:
    op.create_table(
        "deal_counts",
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("owner_key", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("amount", crm_core.adapters.types.Money(), nullable=False),
        sa.PrimaryKeyConstraint("stage_id", "owner_key", "slot", name=op.f("pk_deal_counts")),
    )
    op.create_index(
        "ix_deals_search_order",
        "deals",
        [sa.text("(closed_at IS NOT NULL)"), sa.text("last_activity_at DESC")],
    )
    op.create_index("ix_deals_owner_open_activity", "deals", ["owner_id", "closed_at", "last_activity_at"])
    op.create_index("ix_deals_stage_entered", "deals", ["stage_id", "stage_entered_at", "id", "owner_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in (*(SQLITE_COUNT_TRIGGERS if sqlite else POSTGRES_COUNT_TRIGGER), FILL_COUNTS):
        op.execute(statement)
    for statement in SQLITE_SEARCH if sqlite else POSTGRES_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("deal_counts_insert", "deal_counts_delete", "deal_counts_update"):
            op.execute(f"DROP TRIGGER {name}")
        for table in ("deals", "contacts"):
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {table}_fts_{event}")
            op.execute(f"DROP TABLE {table}_fts")
    else:
        op.execute("DROP TRIGGER deal_counts_update ON deals")
        op.execute("DROP TRIGGER deal_counts_insert_delete ON deals")
        op.execute("DROP FUNCTION deal_counts_keep()")
        op.drop_index("ix_contacts_name_key_trgm", table_name="contacts")
        op.drop_index("ix_deals_title_key_trgm", table_name="deals")
    op.drop_index("ix_deals_stage_entered", table_name="deals")
    op.drop_index("ix_deals_owner_open_activity", table_name="deals")
    op.drop_index("ix_deals_search_order", table_name="deals")
    op.drop_table("deal_counts")
