"""The command executor's adapter side: runs one command against QBO or the CRM (`CommandRunner`)
and turns the answer into an outcome. The Kafka side (dedupe by command id, ordering, batching)
is `streams/executor.py`."""

from adapters.executor.ports import CrmGateways, CrmNotConfiguredError, QboGateways
from adapters.executor.runner import CommandRunner
from adapters.executor.wiring import crm_gateways_from_settings, qbo_gateways_from_connector

__all__ = [
    "CommandRunner",
    "CrmGateways",
    "CrmNotConfiguredError",
    "QboGateways",
    "crm_gateways_from_settings",
    "qbo_gateways_from_connector",
]
