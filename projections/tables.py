"""The projection tables (`proj_*`). Every row carries its tenant; every query filters by it.

Rows are keyed by the ids the events carry (decision, command, outcome, dead-letter ids), never by
counters, so an event delivered twice at two offsets (at-least-once publishing) still counts once,
and figures are counted from rows when asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive UTC text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: projections store aware times only")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
ID = 200  # longest id an envelope allows


def _tenant() -> Column[Any]:
    return Column("tenant", String(64), primary_key=True)


positions = Table(
    "proj_positions",
    metadata,
    Column("consumer", String(200), primary_key=True),
    Column("cluster", String(200), primary_key=True),
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, nullable=False),
)

# Decisions are published again when their input is redelivered or retried (ADR 0009), possibly
# after later decisions about the same record: each decision id is folded in once.
decisions_seen = Table(
    "proj_decisions_seen",
    metadata,
    _tenant(),
    Column("decision_id", String(ID), primary_key=True),
)

links = Table(
    "proj_links",
    metadata,
    _tenant(),
    Column("person_id", BigInteger, primary_key=True),
    Column("customer_id", String(40), nullable=False),
    Column("realm_id", String(40)),
    Column("via", String(20)),
    Column("status", String(10), nullable=False),
    Column("status_reason", String(40)),
    Column("first_linked_at", UtcDateTime),
    Column("last_synced_at", UtcDateTime),
    Column("last_input_id", String(ID), nullable=False),
    Column("last_decision_id", String(ID), nullable=False),
    Column("conflicts", Integer, nullable=False, default=0),
    Column("former_customer_ids", JSON, nullable=False),
    Column("crm", JSON),
    Column("qbo", JSON),
    Column("qbo_sync_token", String(20)),
    Column("crm_changed_at", UtcDateTime),
    Column("qbo_changed_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("proj_links_customer", "tenant", "customer_id"),
    Index("proj_links_status", "tenant", "status"),
)

qbo_customers = Table(
    "proj_qbo_customers",
    metadata,
    _tenant(),
    Column("customer_id", String(40), primary_key=True),
    Column("realm_id", String(40), nullable=False),
    Column("snapshot", JSON),
    Column("sync_token", BigInteger),
    Column("last_updated_at", UtcDateTime),
    Column("active", Boolean),
    Column("deleted_at", UtcDateTime),
    Column("merged_into", String(40)),
    Column("event_id", String(ID), nullable=False),
    Column("event_time", UtcDateTime, nullable=False),
)

crm_people = Table(
    "proj_crm_people",
    metadata,
    _tenant(),
    Column("person_id", BigInteger, primary_key=True),
    Column("snapshot", JSON),
    Column("updated_at", UtcDateTime),
    Column("deleted_at", UtcDateTime),
    Column("event_id", String(ID), nullable=False),
    Column("event_time", UtcDateTime, nullable=False),
)

imports = Table(
    "proj_imports",
    metadata,
    _tenant(),
    Column("request_id", String(ID), primary_key=True),
    Column("dry_run", Boolean, nullable=False),
    Column("requested_by", BigInteger),
    Column("status", String(10), nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("total", BigInteger),
    Column("summary", JSON),
    Column("failure_reason", Text),
    Index("proj_imports_started", "tenant", "started_at"),
)

inputs = Table(
    "proj_inputs",
    metadata,
    _tenant(),
    Column("input_id", String(ID), primary_key=True),
    Column("input_type", String(100), nullable=False),
    Column("time", UtcDateTime, nullable=False),
    Index("proj_inputs_time", "tenant", "time"),
)

accountings = Table(
    "proj_accountings",
    metadata,
    _tenant(),
    Column("decision_id", String(ID), primary_key=True),
    Column("input_id", String(ID), nullable=False),
    Column("input_type", String(100)),
    Column("verdict", String(10), nullable=False),  # applied | ignored | denied
    Column("reason", String(40)),  # ignored: the reason; denied: the code
    Column("detail", Text),  # ignored: the detail; denied: the reason given to the user
    Column("command_ids", JSON),  # applied: the commands it issued
    Column("time", UtcDateTime, nullable=False),
    Index("proj_accountings_input", "tenant", "input_id"),
)

commands = Table(
    "proj_commands",
    metadata,
    _tenant(),
    Column("command_id", String(ID), primary_key=True),
    Column("command_type", String(100), nullable=False),
    Column("subject", String(500)),
    # The request a command serves (its `data.request_id`), else the flow's correlation id.
    Column("correlation_id", String(ID)),
    Column("issued_at", UtcDateTime, nullable=False),
    Index("proj_commands_issued", "tenant", "issued_at"),
    Index("proj_commands_correlation", "tenant", "correlation_id"),
)

outcomes = Table(
    "proj_outcomes",
    metadata,
    _tenant(),
    Column("outcome_id", String(ID), primary_key=True),
    Column("command_id", String(ID), nullable=False),
    Column("command_type", String(100), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("reason", Text),
    Column("code", String(40)),
    Column("retryable", Boolean),
    Column("time", UtcDateTime, nullable=False),
    Index("proj_outcomes_command", "tenant", "command_id"),
    Index("proj_outcomes_time", "tenant", "succeeded", "time"),
)

dead_letters = Table(
    "proj_dead_letters",
    metadata,
    _tenant(),
    Column("dead_letter_id", String(ID), primary_key=True),
    Column("stage", String(10), nullable=False),
    # The id of the original event when its bytes still say it: an input or a command that was
    # dead-lettered is accounted for, not pending.
    Column("original_id", String(ID)),
    Column("reason", Text, nullable=False),
    Column("errors", JSON, nullable=False),
    Column("source_topic", String(255), nullable=False),
    Column("partition", Integer),
    Column("offset", BigInteger),
    Column("time", UtcDateTime, nullable=False),
    Index("proj_dead_letters_time", "tenant", "time"),
    Index("proj_dead_letters_original", "tenant", "original_id"),
)

conflicts = Table(
    "proj_conflicts",
    metadata,
    _tenant(),
    Column("decision_id", String(ID), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("person_id", BigInteger, nullable=False),
    Column("customer_id", String(40), nullable=False),
    Column("rule", String(20), nullable=False),
    Column("crm_field", String(100), nullable=False),
    Column("qbo_field", String(100), nullable=False),
    Column("crm_value", Text),
    Column("qbo_value", Text),
    Column("kept", String(3), nullable=False),
    Column("crm_changed_at", UtcDateTime),
    Column("qbo_changed_at", UtcDateTime),
    Column("time", UtcDateTime, nullable=False),
    Index("proj_conflicts_person", "tenant", "person_id"),
    Index("proj_conflicts_time", "tenant", "time"),
)

# Invoices and estimates (projections/documents.py). Money is kept as the decimal text QBO sent
# (exact on both backends); dates as QBO's YYYY-MM-DD. Whose a document is (person, company) is
# worked out when read, from the links as they are then (projections/document_queries.py);
# person_id and company_id here are what a DocumentCreated named.
documents = Table(
    "proj_documents",
    metadata,
    _tenant(),
    Column("document_type", String(10), primary_key=True),  # invoice | estimate
    Column("qbo_id", String(40), primary_key=True),
    Column("realm_id", String(40)),
    Column("doc_number", String(40)),
    Column("txn_date", String(10)),
    Column("due_date", String(10)),
    Column("expiration_date", String(10)),
    Column("customer_id", String(40)),
    Column("customer_name", String(500)),
    Column("status", String(20), nullable=False),
    Column("txn_status", String(20)),
    Column("total", String(40)),
    Column("balance", String(40)),
    Column("email_status", String(20)),
    Column("emailed", Boolean, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("voided", Boolean, nullable=False),
    Column("deleted_at", UtcDateTime),
    Column("lines", JSON, nullable=False),
    Column("linked_txns", JSON, nullable=False),
    Column("snapshot", JSON),
    Column("sync_token", BigInteger),
    Column("last_updated_at", UtcDateTime),
    Column("origin", String(3), nullable=False),  # crm | qbo
    Column("deal_id", BigInteger),
    Column("person_id", BigInteger),
    Column("company_id", BigInteger),
    Column("requested_by", BigInteger),
    Column("request_id", String(ID)),
    Column("from_estimate_id", String(40)),
    Column("event_id", String(ID), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("proj_documents_customer", "tenant", "customer_id"),
    Index("proj_documents_deal", "tenant", "deal_id"),
    Index("proj_documents_person", "tenant", "person_id"),
    Index("proj_documents_request", "tenant", "request_id"),
)

# Which documents each request created or sent, one row per document decision.
request_documents = Table(
    "proj_request_documents",
    metadata,
    _tenant(),
    Column("decision_id", String(ID), primary_key=True),
    Column("request_id", String(ID), nullable=False),
    Column("action", String(20), nullable=False),  # created | already_converted | sent
    Column("document_type", String(10), nullable=False),
    Column("qbo_id", String(40), nullable=False),
    Column("time", UtcDateTime, nullable=False),
    Index("proj_request_documents_request", "tenant", "request_id"),
)

# Per tenant, what visibility of QBO-made documents needs: the installer and the setting.
document_visibility = Table(
    "proj_document_visibility",
    metadata,
    _tenant(),
    Column("owner_user_id", BigInteger),
    Column("visibility", String(20), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# --- history (issue 7): one row per change to a record, as one event tells it ---------------

history = Table(
    "proj_history",
    metadata,
    _tenant(),
    Column("kind", String(10), primary_key=True),  # person | company | customer
    Column("record_id", String(64), primary_key=True),
    Column("event_id", String(ID), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("source", String(10), nullable=False),  # crm | qbo | engine | user
    Column("event_type", String(100), nullable=False),
    Column("summary", Text, nullable=False),
    Column("cause_id", String(ID)),
    Column("cause_kind", String(10)),  # event | command | import | request
    Column("command_id", String(ID)),
    Column("changes", JSON, nullable=False),  # [{field, before, after}]
    Column("snapshot", JSON),  # the record after, from its own system's change event
    Column("deleted", Boolean, nullable=False),
    Index("proj_history_record", "tenant", "kind", "record_id", "at"),
    Index("proj_history_cause", "tenant", "cause_id"),
)

# The last snapshot of each record from its own system: what the next change is compared with.
history_heads = Table(
    "proj_history_heads",
    metadata,
    _tenant(),
    Column("kind", String(10), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("snapshot", JSON),  # null once deleted
)

# The tenant's field mapping as last saved: which fields a restore puts back.
history_mappings = Table(
    "proj_history_mappings",
    metadata,
    _tenant(),
    Column("field_mapping", JSON, nullable=False),  # [{crm, qbo}]
    Column("updated_at", UtcDateTime, nullable=False),
)
