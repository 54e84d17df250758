"""The CRM poller, for when webhooks are off: `person_modified[from_date]` from a persisted
watermark, and a periodic full sweep that notices hard deletes (incremental queries cannot).

The watermark is the newest `updated_at` the CRM itself reported (no clock skew between us and
the CRM), and it moves only after everything it covers is acknowledged (Singer's rule). The next
poll asks again from that same second; versions already published keep their ids and are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.crm_bridge import events
from adapters.crm_bridge.ports import CRM_MODELS, CrmModel, CrmReader
from adapters.ports import Publisher
from adapters.relaying import RecentIds, publish_once
from adapters.watermarks import SqliteKnownIds, SqliteWatermarks
from qbsync.logs import get_logger
from schemas.envelope import Envelope
from schemas.topics import CRM_CHANGES

log = get_logger(__name__)


@dataclass
class PollReport:
    published: int = 0
    skipped: int = 0
    deleted: int = 0


class CrmPoller:
    def __init__(
        self,
        tenant: str,
        reader: CrmReader,
        publisher: Publisher,
        watermarks: SqliteWatermarks,
        known: SqliteKnownIds,
        clock: Callable[[], datetime],
        *,
        models: Sequence[CrmModel] = CRM_MODELS,
        first_lookback: timedelta = timedelta(hours=24),
    ) -> None:
        self._tenant, self._reader, self._publisher = tenant, reader, publisher
        self._watermarks, self._known, self._clock = watermarks, known, clock
        self._models, self._first_lookback = models, first_lookback
        self._recent = RecentIds()

    async def poll(self) -> PollReport:
        report = PollReport()
        for model in self._models:
            mark = self._watermarks.get(self._tenant, model)
            since = mark if mark is not None else self._clock() - self._first_lookback
            found: list[Envelope] = []
            seen_ids: list[int] = []
            newest = since
            async for record in self._reader.modified_since(model, since):
                event = events.changed_event(self._tenant, model, record)
                found.append(event)
                seen_ids.append(int(record["id"]))
                newest = max(newest, event.time)
            published, skipped = await publish_once(
                self._publisher, CRM_CHANGES, found, self._recent
            )
            self._known.add(self._tenant, model, seen_ids)
            self._watermarks.set(self._tenant, model, newest)
            report.published += published
            report.skipped += skipped
        return report

    async def sweep(self) -> PollReport:
        """Compare the ids that exist now with the last sweep's; the missing ones were deleted."""
        report = PollReport()
        for model in self._models:
            existing = await self._reader.all_ids(model)
            if self._known.was_swept(self._tenant, model):
                gone = []
                for record_id in sorted(self._known.ids(self._tenant, model) - existing):
                    # Offset paging can skip a record while another is deleted mid-sweep:
                    # only a record that cannot be read is gone.
                    if await self._reader.read(model, record_id) is None:
                        gone.append(record_id)
                    else:
                        existing.add(record_id)
                now = self._clock()
                found = [
                    events.deleted_event(self._tenant, model, record_id, now, "poll_sweep")
                    for record_id in gone
                ]
                published, _ = await publish_once(self._publisher, CRM_CHANGES, found, self._recent)
                report.deleted += published
            self._known.replace(self._tenant, model, existing)
        return report

    async def run_forever(self, poll_interval_s: float, sweep_every: int) -> None:
        """Poll every `poll_interval_s`; sweep on start and every `sweep_every` polls."""
        polls = 0
        while True:
            try:
                if polls % sweep_every == 0:
                    await self.sweep()
                await self.poll()
            except Exception:  # the CRM or the broker is away: try again next round
                log.exception("crm_poll_failed", tenant=self._tenant)
            polls += 1
            await asyncio.sleep(poll_interval_s)
