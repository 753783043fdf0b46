"""The schema, as SQLAlchemy Core tables. Migrations create it; this module only describes it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

from crm_core.adapters.types import JsonDoc, Money, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("telegram_id", BigInteger, nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("locale", String(8), nullable=False, server_default="en"),
    Column("locale_chosen", Boolean, nullable=False, server_default=text("false")),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("blocked_bot", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime, nullable=False),
)

user_extensions = Table(
    "user_extensions",
    metadata,
    Column("extension", String(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
)

pipelines = Table(
    "pipelines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    Column("position", Integer, nullable=False, server_default="0"),  # the funnel file's order
)

# The numbers (DIDs, E.164) whose calls from new numbers open deals in a pipeline (migration 0020).
pipeline_numbers = Table(
    "pipeline_numbers",
    metadata,
    Column("did", String(20), primary_key=True),
    Column(
        "pipeline_id", Integer, ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False, index=True
    ),
)

# A number every change of ``pipelines`` or ``stages`` bumps (triggers, migration 0019): each process
# caches the funnel by it. One row, id 1.
funnel_version = Table(
    "funnel_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

stages = Table(
    "stages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pipeline_id", Integer, ForeignKey("pipelines.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("follow_up_s", Integer, nullable=True),
    Column("playbook", String(200), nullable=False, server_default=""),
    Column("probability", Integer, nullable=False, server_default="0"),
    UniqueConstraint("pipeline_id", "name"),
)

lost_reasons = Table(
    "lost_reasons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", String(100), nullable=False, unique=True),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=True),
    Column("name_key", String(100), nullable=True),
    Column("phone", String(20), nullable=True, unique=True),
    # The phone's digits reversed, so "the last digits" is an indexed prefix search.
    Column("phone_rev", String(20), nullable=True, index=True),
    Column("company", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

deals = Table(
    "deals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pipeline_id", Integer, ForeignKey("pipelines.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("title_key", String(200), nullable=False),
    Column("contact_id", Integer, ForeignKey("contacts.id"), nullable=True, index=True),
    Column("amount", Money, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("stage_id", Integer, ForeignKey("stages.id"), nullable=False),
    Column("owner_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("source", String(16), nullable=False),
    Column("priority", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("stage_entered_at", UtcDateTime, nullable=False),
    Column("last_activity_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("lost_reason", String(200), nullable=True),
    Column("lost_note", String(200), nullable=True),
    Column("snoozed_until", UtcDateTime, nullable=True),
    # When the deal goes stale unless something happens: the latest of (last activity + the
    # stage's follow-up), the snooze, and its open tasks' due times. NULL when it never will.
    Column("follow_up_due_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    # A won or lost deal: the open stage it was closed from, where reopening puts it back.
    Column("closed_from_stage_id", Integer, nullable=True),
    Index("ix_deals_stage_owner_entered", "stage_id", "owner_id", "stage_entered_at"),
    Index("ix_deals_owner_stage", "owner_id", "stage_id"),
    Index("ix_deals_follow_up_due_at", "follow_up_due_at"),
    Index("ix_deals_closed_at", "closed_at"),
    # Search results' order (open first, most recently active first), a seller's open deals, a column.
    Index("ix_deals_search_order", text("(closed_at IS NOT NULL)"), text("last_activity_at DESC")),
    Index("ix_deals_owner_open_activity", "owner_id", "closed_at", "last_activity_at", "follow_up_due_at"),
    Index("ix_deals_stage_entered", "stage_id", "stage_entered_at", "id", "owner_id"),
    # Also (migration 0011): SQLite FTS5 trigram tables deals_fts and contacts_fts over title_key and
    # name_key, kept by triggers; PostgreSQL pg_trgm GIN indexes of the same columns.
)

# Per stage and owner (0: nobody), how many deals and the sum of their amounts: the board's figures,
# kept by triggers on ``deals`` (migration 0011), so the board never reads the deals themselves.
deal_counts = Table(
    "deal_counts",
    metadata,
    Column("stage_id", Integer, primary_key=True),
    Column("owner_key", Integer, primary_key=True),
    Column("slot", Integer, primary_key=True),  # the deal's id % 4: concurrent writers seldom share a row
    Column("deals", Integer, nullable=False),
    Column("amount", Money, nullable=False),
)

deal_events = Table(
    "deal_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deal_id", Integer, ForeignKey("deals.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("actor_system", String(100), nullable=True),
    Column("from_stage_id", Integer, nullable=True),
    Column("to_stage_id", Integer, nullable=True),
    Column("data", JsonDoc, nullable=False),
    # A move back within a day (or a reopen within a day of the close) undoes an earlier stage event:
    # the history keeps both, and the reports count neither.
    Column(
        "undoes_event_id",
        Integer,
        ForeignKey("deal_events.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Index("ix_deal_events_deal_at", "deal_id", "at"),
    Index("ix_deal_events_kind_at", "kind", "at"),
    Index("ix_deal_events_to_stage_at", "to_stage_id", "at"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deal_id", Integer, ForeignKey("deals.id", ondelete="CASCADE"), nullable=False),
    Column("assignee_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("due_at", UtcDateTime, nullable=False),
    Column("text", String(500), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("done_at", UtcDateTime, nullable=True),
    # When the assignee was told the task is due, and when a missed call-back was repeated.
    Column("notified_at", UtcDateTime, nullable=True),
    Column("repeated_at", UtcDateTime, nullable=True),
    # Cancelled because its deal was won or lost first (``done_at`` is set too: it is not to do).
    Column("cancelled_at", UtcDateTime, nullable=True),
    # A call-back's number (E.164), and how many calls to it did not connect.
    Column("phone", String(20), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Index("ix_tasks_assignee_open_due", "assignee_id", "done_at", "due_at"),
    Index("ix_tasks_due_unnotified", "due_at", "notified_at"),
    Index("ix_tasks_deal_open", "deal_id", "done_at"),
    Index("ix_tasks_phone_open", "phone", "done_at"),
)

calls = Table(
    "calls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("caller", String(20), nullable=True),
    Column("dialed", String(20), nullable=True),
    Column("answered_by_ext", String(32), nullable=True),
    Column("answered_by_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("rang", JsonDoc, nullable=False),
    Column("transfers", JsonDoc, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime, nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("duration_s", Integer, nullable=True),
    Column("deal_id", Integer, ForeignKey("deals.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    # From a number the CRM did not know, of the kind that makes a deal: what a call flood counts.
    Column("new_number", Boolean, nullable=False, server_default=text("false")),
    # Recorded during a call flood without the deal, call-back and notice it would have made.
    Column("held", Boolean, nullable=False, server_default=text("false")),
    # How an answered call ended, as the seller told it (``CallOutcome``), and when.
    Column("outcome", String(16), nullable=True),
    Column("outcome_at", UtcDateTime, nullable=True),
    UniqueConstraint("provider", "external_id"),
    Index("ix_calls_new_number_created_at", "new_number", "created_at"),
    Index("ix_calls_held_created_at", "held", "created_at"),
    Index("ix_calls_started_at", "started_at"),
)

# Calls a seller asked the PBX to place from the CRM (ring their phone, then dial the customer): kept
# until the telephony edge placed them or the PBX refused, so none is lost across a restart.
call_requests = Table(
    "call_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deal_id", Integer, ForeignKey("deals.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("task_id", Integer, ForeignKey("tasks.id", ondelete="SET NULL"), nullable=True),
    Column("requester_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("extension", String(32), nullable=False),
    Column("number", String(20), nullable=False),
    Column("customer_name", String(100), nullable=True),
    Column("status", String(10), nullable=False),
    Column("refusal", String(20), nullable=True),
    Column("detail", String(200), nullable=True),
    Column("external_id", String(128), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("settled_at", UtcDateTime, nullable=True),
    Index("ix_call_requests_status_created_at", "status", "created_at"),
)

# Calls' recordings, by the call's id at its PBX (a recording may be announced before its call): what
# the PBX calls it, and the fetch's life until the file is in the recordings directory, then deleted.
call_recordings = Table(
    "call_recordings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("ref", String(500), nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_try_at", UtcDateTime, nullable=True),
    Column("file_name", String(40), nullable=True),
    Column("mime", String(40), nullable=True),
    Column("size", Integer, nullable=True),
    Column("error", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("stored_at", UtcDateTime, nullable=True),
    Column("deleted_at", UtcDateTime, nullable=True),
    UniqueConstraint("provider", "external_id"),
    Index("ix_call_recordings_state_next_try_at", "state", "next_try_at"),
    Index("ix_call_recordings_state_stored_at", "state", "stored_at"),
)

# What a PBX signed of a call's notifications when its signature leaves the call id out (Zadarma): the
# signed text (by its digest) belongs to the call id it first came with, and the call's later events
# must carry the same signed values.
call_seals = Table(
    "call_seals",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("external_id", String(128), nullable=False),
    Column("fields", JsonDoc, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_call_seals_provider_external_id", "provider", "external_id"),
)

# Messages the system sends on its own (not direct replies): written in the same transaction as
# the change they announce, delivered later by the chat edge, each exactly once.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recipient_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", JsonDoc, nullable=False),
    Column("dedup_key", String(200), nullable=True, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("not_before", UtcDateTime, nullable=False),
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(300), nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    # What the item is about (a caller's repeated calls, a call flood): news of the same thing is
    # counted on the item while it waits, or on one item a window later, instead of queued again.
    Column("coalesce_key", String(200), nullable=True),
    # The dedup key of an earlier item whose message this one is shown in (edited), if it went out.
    Column("edits", String(200), nullable=True),
    # The Telegram message the item became (its first, when it had several), once sent.
    Column("chat_id", BigInteger, nullable=True),
    Column("message_id", BigInteger, nullable=True),
    Index("ix_outbox_status_not_before", "status", "not_before"),
    Index("ix_outbox_coalesce_key", "coalesce_key"),
)

# One-time invitations to join the team with a role.
invites = Table(
    "invites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_by_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_by_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("extensions", String(200), nullable=True),  # comma-separated: what the newcomer gets
)

# Where each person is in a multi-step conversation (and what they entered so far): kept here, not
# in memory, so it survives restarts and works across several processes.
dialogs = Table(
    "dialogs",
    metadata,
    Column("subject_id", BigInteger, primary_key=True),
    Column("flow", String(32), nullable=False),
    Column("step", String(32), nullable=False),
    Column("data", JsonDoc, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Keys of work already done (an update id, a one-time notice): a repeated delivery is recognised.
processed = Table(
    "processed",
    metadata,
    Column("key", String(120), primary_key=True),
    Column("subject_id", BigInteger, nullable=True),
    Column("state", String(10), nullable=False, server_default="done"),
    Column("at", UtcDateTime, nullable=False),
    # The process working on the key (its liveness lock, crm_core/adapters/liveness.py): when it is
    # gone, the work is taken over at once instead of after the claim's lease.
    Column("owner", String(80), nullable=True),
    Index("ix_processed_subject_at", "subject_id", "at"),
    Index("ix_processed_at", "at"),
)

# One row per deal per stale period (identified by when it went stale): claimed by the process that
# sends the reminder, so a reminder — and its escalation — goes out once however many processes tick.
deal_followups = Table(
    "deal_followups",
    metadata,
    Column("deal_id", Integer, ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True),
    Column("stale_since", UtcDateTime, primary_key=True),
    Column("reminded_at", UtcDateTime, nullable=False),
    Column("escalated_at", UtcDateTime, nullable=True),
    Index("ix_deal_followups_escalation", "escalated_at", "reminded_at"),
)

# Each person's follow-up preferences and what was last sent to them (local dates, so a daylight
# saving change neither skips nor repeats a digest).
user_settings = Table(
    "user_settings",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("digest_time", String(5), nullable=False, server_default="09:00"),
    Column("digest_enabled", Boolean, nullable=False, server_default=text("true")),
    Column("morning_plan_enabled", Boolean, nullable=False, server_default=text("true")),
    Column("last_digest_on", String(10), nullable=True),
    Column("last_digest_at", UtcDateTime, nullable=True),
    Column("last_morning_on", String(10), nullable=True),
    Column("morning_time", String(5), nullable=True),  # NULL: when the working hours begin
    Column("last_pipeline_id", Integer, nullable=True),  # the funnel last worked in (no key: may be gone)
)

# The team's own fields (``crm_core.domain.fields``), as the funnel file declares them.
field_definitions = Table(
    "field_definitions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(40), nullable=False, unique=True),
    Column("entity", String(8), nullable=False),
    Column("type", String(16), nullable=False),
    Column("names", JsonDoc, nullable=False),
    Column("choices", JsonDoc, nullable=False),
    Column("required_from", String(64), nullable=True),
    Column("position", Integer, nullable=False),
)

# A field's value on a deal: one row per value (a multi-choice has several), so a report groups deals
# by a choice with an index.
deal_field_values = Table(
    "deal_field_values",
    metadata,
    Column("deal_id", Integer, ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(40), primary_key=True),
    Column("value", String(500), primary_key=True),
    Index("ix_deal_field_values_key_value", "key", "value"),
)

contact_field_values = Table(
    "contact_field_values",
    metadata,
    Column("contact_id", Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(40), primary_key=True),
    Column("value", String(500), primary_key=True),
    Index("ix_contact_field_values_key_value", "key", "value"),
)

# Each seller's monthly sales target (migration 0022): a month is 'YYYY-MM', counted in the team's
# time zone; ``deals`` is the number of deals to win, when the boss set one.
sales_targets = Table(
    "sales_targets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("amount", Money, nullable=False),
    Column("deals", Integer, nullable=True),
    Column("set_by_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("user_id", "month"),
    Index("ix_sales_targets_month", "month"),
)

# Personal API tokens (only the SHA-256 of the secret is kept) and the answers kept under the
# ``Idempotency-Key`` of each token's writes.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("scope", String(8), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
)

api_idempotency = Table(
    "api_idempotency",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_id", Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("body", JsonDoc, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("token_id", "key"),
)

# Where an imported deal came from (migration 0025): the other product and the deal's id there, so that
# importing the same export again updates the deal instead of adding it twice.
deal_external_ids = Table(
    "deal_external_ids",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),
    Column("external_id", String(100), nullable=False),
    Column("deal_id", Integer, ForeignKey("deals.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("imported_at", UtcDateTime, nullable=False),
    UniqueConstraint("source", "external_id"),
)

# Outgoing webhooks (migration 0026): the endpoints, how far the dispatcher has read each source table
# (by id), and one delivery per (endpoint, event), sent in order per ``order_key`` (a deal).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(500), nullable=False),
    Column("events", JsonDoc, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("removed_at", UtcDateTime, nullable=True),
)

webhook_cursors = Table(
    "webhook_cursors",
    metadata,
    Column("source", String(20), primary_key=True),
    Column("last_id", Integer, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("endpoint_id", Integer, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("order_key", String(40), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("data", JsonDoc, nullable=True),  # NULL until the deal is rendered as the API shows it
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_try_at", UtcDateTime, nullable=False),
    Column("last_error", String(300), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("settled_at", UtcDateTime, nullable=True),
    Index("ix_webhook_deliveries_endpoint_id_order_key_status", "endpoint_id", "order_key", "status"),
    Index("ix_webhook_deliveries_status_next_try_at", "status", "next_try_at"),
)

# Web forms on the company's websites: a lead posted with a form's key lands in its pipeline's inbox.
web_forms = Table(
    "web_forms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("key", String(64), nullable=False, unique=True),
    Column("pipeline_id", Integer, ForeignKey("pipelines.id", ondelete="SET NULL"), nullable=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)
