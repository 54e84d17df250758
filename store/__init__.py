"""The aggregate store (ADR 0003): installation, customer link and import run, event-sourced with
the `eventsourcing` library on SQLite or PostgreSQL, with the Kafka position of each input
recorded in the same transaction as the changes it caused.

Usage: load with `store.installation(tenant)` / `store.link(...)` / ..., call a command function
(it returns an event, or None for "no change"), `store.record(event, position=...)`.
"""

from store.app import ConcurrentWriteError, KafkaPosition, QbsyncStore, open_store
from store.backends import StoreUrlError
from store.customer_index import CustomerAlreadyLinked
from store.model import DomainError, InvalidTransition, NotAllowed

__all__ = [
    "ConcurrentWriteError",
    "CustomerAlreadyLinked",
    "DomainError",
    "InvalidTransition",
    "KafkaPosition",
    "NotAllowed",
    "QbsyncStore",
    "StoreUrlError",
    "open_store",
]
