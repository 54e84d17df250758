"""Publishing each event id once: a bounded memory of what was already acknowledged.

Bridges and pollers see the same entity version more than once (a webhook and a sweep, a
redelivered webhook, overlapping windows). Event ids name versions, so skipping ids already
published keeps the topics lean; what slips through after a restart has the same id, and
consumers dedupe on it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from adapters.ports import Publisher
from schemas.envelope import Envelope
from schemas.topics import TopicSpec


class RecentIds:
    def __init__(self, capacity: int = 100_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def __contains__(self, key: str) -> bool:
        return key in self._seen

    def add(self, key: str) -> None:
        self._seen[key] = None
        self._seen.move_to_end(key)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)


async def publish_once(
    publisher: Publisher, topic: TopicSpec, events: Sequence[Envelope], recent: RecentIds
) -> tuple[int, int]:
    """Publish the events not seen before, wait for the broker, remember them.

    Returns (published, skipped). Ids are remembered only after the flush succeeded, so a failed
    flush leaves them to be published again.
    """
    fresh = [event for event in events if event.id not in recent]
    for event in fresh:
        await publisher.publish(topic, event)
    await publisher.flush()
    for event in fresh:
        recent.add(event.id)
    return len(fresh), len(events) - len(fresh)
