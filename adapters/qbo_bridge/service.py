"""The QBO bridge's parts: the webhook receiver and the CDC sweeper, sharing one relay."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.ports import Publisher
from adapters.qbo_bridge.cdc import CdcSweeper
from adapters.qbo_bridge.ports import EntityReader, TenantDirectory
from adapters.qbo_bridge.receiver import WebhookReceiver
from adapters.qbo_bridge.relay import ChangeRelay
from adapters.watermarks import SqliteWatermarks


@dataclass
class QboBridge:
    receiver: WebhookReceiver
    sweeper: CdcSweeper

    def background(self, cdc_interval_s: float) -> list[Coroutine[Any, Any, None]]:
        """What runs for the life of the process: the relay worker, and sweeps (on start too)."""
        return [self.receiver.run(), self.sweeper.run_forever(cdc_interval_s)]


def create_bridge(
    *,
    verifier_token: str,
    tenants: TenantDirectory,
    reader: EntityReader,
    publisher: Publisher,
    watermarks: SqliteWatermarks,
    clock: Callable[[], datetime],
) -> QboBridge:
    relay = ChangeRelay(reader, tenants, publisher, clock)
    receiver = WebhookReceiver(verifier_token, relay, publisher, clock)
    return QboBridge(receiver, CdcSweeper(reader, tenants, relay, watermarks, clock))
