"""Notifications and CDC objects → published QBO change events, each entity version once.

The relay is the bridge's one path to Kafka, for webhooks and CDC sweeps alike. A realm that is
connected to no installation is not dropped: its notification is dead-lettered with the reason.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from adapters.ports import Publisher
from adapters.qbo_bridge import events
from adapters.qbo_bridge.payloads import Notification
from adapters.qbo_bridge.ports import EntityReader, TenantDirectory
from adapters.relaying import RecentIds, publish_once
from engine.deadletter import RawMessage, dead_letter_for
from qbsync.logs import get_logger
from schemas.envelope import Envelope
from schemas.topics import DEAD_LETTER, QBO_CHANGES

log = get_logger(__name__)
# Name-list records are never removed in QBO; their "Delete" is a deactivation.
_NAME_LISTS = frozenset({"Customer", "Item"})


@dataclass
class RelayReport:
    published: int = 0
    duplicates: int = 0
    unrouted: int = 0
    missing: list[str] = field(default_factory=list)

    def add(self, other: RelayReport) -> None:
        self.published += other.published
        self.duplicates += other.duplicates
        self.unrouted += other.unrouted
        self.missing += other.missing


class ChangeRelay:
    def __init__(
        self,
        reader: EntityReader,
        tenants: TenantDirectory,
        publisher: Publisher,
        clock: Callable[[], datetime],
        recent_capacity: int = 100_000,
    ) -> None:
        self._reader, self._tenants, self._publisher, self._clock = (
            reader,
            tenants,
            publisher,
            clock,
        )
        self._recent = RecentIds(recent_capacity)

    async def relay_notifications(self, notifications: Sequence[Notification]) -> RelayReport:
        report = RelayReport()
        fresh = [n for n in notifications if n.dedupe_key not in self._recent]
        report.duplicates += len(notifications) - len(fresh)
        by_realm: dict[str, list[Notification]] = defaultdict(list)
        for note in fresh:
            by_realm[note.realm_id].append(note)
        published: list[Envelope] = []
        for realm_id, notes in by_realm.items():
            tenant = self._tenants.tenant_for_realm(realm_id)
            if tenant is None:
                await self._dead_letter_unrouted(notes)
                report.unrouted += len(notes)
                continue
            published += await self._events_for(tenant, realm_id, notes, report)
        await self._publish(published, report)
        for note in fresh:
            self._recent.add(note.dedupe_key)
        return report

    async def relay_cdc(
        self, realm_id: str, changes: Mapping[str, list[dict[str, Any]]]
    ) -> RelayReport:
        report = RelayReport()
        tenant = self._tenants.tenant_for_realm(realm_id)
        if tenant is None:
            return report
        found: list[Envelope] = []
        for entity, objects in changes.items():
            for obj in objects:
                if events.is_tombstone(obj):
                    deleted_at = datetime.fromisoformat(obj["MetaData"]["LastUpdatedTime"])
                    found.append(
                        events.deleted_event(tenant, realm_id, entity, obj["Id"], deleted_at)
                    )
                else:
                    op = events.op_for(None, obj)
                    found.append(events.changed_event(tenant, realm_id, entity, obj, op))
        await self._publish(found, report)
        return report

    async def _events_for(
        self, tenant: str, realm_id: str, notes: list[Notification], report: RelayReport
    ) -> list[Envelope]:
        found: list[Envelope] = []
        # The last operation per entity decides what a fetched version is called.
        last_op: dict[tuple[str, str], str] = {}
        for note in notes:
            if note.operation == "Delete" and note.entity not in _NAME_LISTS:
                found.append(
                    events.deleted_event(
                        tenant, realm_id, note.entity, note.entity_id, note.occurred_at
                    )
                )
            else:
                # QBO "deletes" a customer or item by making it inactive: fetch what is left.
                last_op[(note.entity, note.entity_id)] = note.operation
        by_entity: dict[str, list[str]] = defaultdict(list)
        for entity, entity_id in last_op:
            by_entity[entity].append(entity_id)
        merges: dict[tuple[str, str], Notification] = {
            (n.entity, n.entity_id): n for n in notes if n.operation == "Merge"
        }
        for entity, ids in by_entity.items():
            fetched = {o["Id"]: o for o in await self._reader.read_many(realm_id, entity, ids)}
            for entity_id in ids:
                obj = fetched.get(entity_id)
                if obj is None and last_op[(entity, entity_id)] == "Delete":
                    found.append(
                        events.deleted_event(tenant, realm_id, entity, entity_id, self._clock())
                    )
                    continue
                if obj is None:  # deleted since the notification; its Delete will follow
                    report.missing.append(f"{entity} {entity_id}")
                    continue
                merge = merges.get((entity, entity_id))
                if merge is not None and merge.deleted_id and entity == "Customer":
                    found.append(
                        events.customer_merged_event(
                            tenant, realm_id, merge.deleted_id, obj, merge.occurred_at
                        )
                    )
                op = events.op_for(last_op[(entity, entity_id)], obj)
                found.append(events.changed_event(tenant, realm_id, entity, obj, op))
        return found

    async def _publish(self, found: Sequence[Envelope], report: RelayReport) -> None:
        published, skipped = await publish_once(self._publisher, QBO_CHANGES, found, self._recent)
        report.published += published
        report.duplicates += skipped

    async def _dead_letter_unrouted(self, notes: list[Notification]) -> None:
        for note in notes:
            body = json.dumps(asdict(note), default=str).encode()
            letter = dead_letter_for(
                # the notification's own key makes the dead letter's id unique and stable
                RawMessage(f"qbo-webhook:{note.dedupe_key}", None, None, None, body),
                "ingest",
                f"QBO realm {note.realm_id} is connected to no installation",
                (),
                self._clock(),
                worker="qbo-bridge",
            )
            log.warning("qbo_realm_unrouted", realm_id=note.realm_id, entity=note.entity)
            await self._publisher.publish(DEAD_LETTER, letter)
        await self._publisher.flush()
