"""CDC sweeps: heal missed or failed webhooks by asking QBO what changed since the watermark.

Singer's rule: the watermark moves only after every event it covers has been published and
acknowledged. Sweeps overlap their window a little; re-published versions keep their event ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from adapters.qbo_bridge.ports import EntityReader, TenantDirectory
from adapters.qbo_bridge.relay import ChangeRelay, RelayReport
from adapters.watermarks import SqliteWatermarks
from qbsync.logs import get_logger

log = get_logger(__name__)

CDC_ENTITIES: tuple[str, ...] = ("Customer", "Invoice", "Estimate", "Item")
CDC_MAX_OBJECTS = 1000  # QBO's cap per entity per response
CDC_WINDOW = timedelta(days=30)  # QBO refuses older changedSince


class CdcSweeper:
    def __init__(
        self,
        reader: EntityReader,
        tenants: TenantDirectory,
        relay: ChangeRelay,
        watermarks: SqliteWatermarks,
        clock: Callable[[], datetime],
        *,
        first_lookback: timedelta = timedelta(hours=24),
        overlap: timedelta = timedelta(minutes=2),
        entities: Sequence[str] = CDC_ENTITIES,
    ) -> None:
        self._reader, self._tenants, self._relay = reader, tenants, relay
        self._watermarks, self._clock = watermarks, clock
        self._first_lookback, self._overlap, self._entities = first_lookback, overlap, entities

    async def sweep_all(self) -> RelayReport:
        total = RelayReport()
        for realm_id in self._tenants.realms():
            try:
                total.add(await self.sweep_realm(realm_id))
            except Exception:  # one realm's outage must not stop the others' sweeps
                log.exception("cdc_sweep_failed", realm_id=realm_id)
        return total

    async def sweep_realm(self, realm_id: str) -> RelayReport:
        started = self._clock()
        oldest_allowed = started - CDC_WINDOW + timedelta(minutes=5)
        since = min(self._since(realm_id, entity, started) for entity in self._entities)
        since = max(since, oldest_allowed)
        changes = await self._reader.changes_since(realm_id, self._entities, since)
        report = await self._relay.relay_cdc(realm_id, changes)  # published and acknowledged
        for entity in self._entities:
            objects = changes.get(entity, [])
            if len(objects) >= CDC_MAX_OBJECTS:
                # Capped: continue from the newest change we saw, not from the sweep start.
                newest = max(
                    datetime.fromisoformat(o["MetaData"]["LastUpdatedTime"]) for o in objects
                )
                self._watermarks.set(realm_id, entity, newest)
            else:
                self._watermarks.set(realm_id, entity, started - self._overlap)
        log.info(
            "cdc_swept",
            realm_id=realm_id,
            since=since.isoformat(),
            published=report.published,
            duplicates=report.duplicates,
        )
        return report

    async def run_forever(self, interval_s: float) -> None:
        """Sweep on start, then every `interval_s`, until cancelled."""
        while True:
            await self.sweep_all()
            await asyncio.sleep(interval_s)

    def _since(self, realm_id: str, entity: str, now: datetime) -> datetime:
        mark = self._watermarks.get(realm_id, entity)
        return mark if mark is not None else now - self._first_lookback
