"""The topic catalog: every topic qbsync reads or writes, its key, its value types, its retention.

Every topic is keyed by tenant id (UTF-8), so one tenant's events stay in order on one partition
and one worker owns a tenant at a time (docs/adr/0001-key-every-topic-by-tenant.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from schemas.commands import COMMANDS, JOBS
from schemas.crm import CRM_EVENTS
from schemas.deadletter import DEAD_LETTERS
from schemas.decisions import DECISIONS
from schemas.envelope import Envelope, type_of
from schemas.outcomes import OUTCOMES
from schemas.qbo import QBO_EVENTS
from schemas.requests import REQUEST_EVENTS

KEEP_FOREVER = -1
TENANT_KEY = "tenant id, UTF-8 bytes"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    description: str
    value_types: tuple[type[Envelope], ...]
    partitions: int = 8
    replication: int = 1
    retention_ms: int = KEEP_FOREVER
    key: str = TENANT_KEY
    extra_config: Mapping[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Mapping[str, str]:
        return {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": "delete",
            **self.extra_config,
        }

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(type_of(cls) for cls in self.value_types)

    def sized(self, partitions: int, replication: int) -> TopicSpec:
        return replace(self, partitions=partitions, replication=replication)


CRM_CHANGES = TopicSpec(
    name="qbsync.crm.changes.v1",
    description="CRM person/company/deal changes and deletions, from any publisher. History.",
    value_types=CRM_EVENTS,
)
QBO_CHANGES = TopicSpec(
    name="qbsync.qbo.changes.v1",
    description="QBO customer/invoice/estimate/item changes, deletions and merges. History.",
    value_types=QBO_EVENTS,
)
REQUESTS = TopicSpec(
    name="qbsync.requests.v1",
    description="User and admin requests (install, settings, enable, import, documents). History.",
    value_types=REQUEST_EVENTS,
)
DECISIONS_TOPIC = TopicSpec(
    name="qbsync.decisions.v1",
    description="The engine's account of every input: applied (with commands) or ignored (why).",
    value_types=DECISIONS,
)
COMMANDS_TOPIC = TopicSpec(
    name="qbsync.commands.v1",
    description="Commands to QBO and the CRM; the event id is the deterministic command id.",
    value_types=COMMANDS,
)
OUTCOMES_TOPIC = TopicSpec(
    name="qbsync.outcomes.v1",
    description="What each command did (or why it failed for good); loops back to the decider.",
    value_types=OUTCOMES,
)
JOBS_TOPIC = TopicSpec(
    name="qbsync.jobs.v1",
    description="Long jobs (imports): one at a time per tenant, apart from ordinary commands.",
    value_types=JOBS,
)
DEAD_LETTER = TopicSpec(
    name="qbsync.deadletter.v1",
    description="Messages that could not be taken: reason, field errors and the original bytes.",
    value_types=DEAD_LETTERS,
)

TOPICS: tuple[TopicSpec, ...] = (
    CRM_CHANGES,
    QBO_CHANGES,
    REQUESTS,
    DECISIONS_TOPIC,
    COMMANDS_TOPIC,
    OUTCOMES_TOPIC,
    JOBS_TOPIC,
    DEAD_LETTER,
)


def topic_for(event_class: type[Envelope]) -> TopicSpec:
    for spec in TOPICS:
        if event_class in spec.value_types:
            return spec
    raise LookupError(f"no topic carries {type_of(event_class)}")


def topic_markdown() -> str:
    """The README's topic catalog table; a test keeps the README in step with it."""
    lines = ["| topic | key | value types | retention |", "|---|---|---|---|"]
    for spec in TOPICS:
        types = ", ".join(f"`{name}`" for name in spec.type_names)
        retention = (
            "forever (`retention.ms=-1`)"
            if spec.retention_ms == KEEP_FOREVER
            else f"`retention.ms={spec.retention_ms}`"
        )
        lines.append(f"| `{spec.name}` | tenant id | {types} | {retention} |")
    return "\n".join(lines)
