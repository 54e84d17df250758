"""QBO customer commands: what each does with the QboGateway, and how it stays safe to run twice.
Document commands are in document_commands.py.

Every write carries a requestid derived from the command id (outcomes.request_id), so a command
run again after a crash gets QBO's replay of each earlier answer instead of a second customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.executor.outcomes import Writes, as_json, request_id
from adapters.qbo.errors import DuplicateNameError, StaleObjectError
from adapters.qbo.ports import QboGateway
from engine.fields import QBO_EMAIL_FIELDS, normalise, qbo_value, without_qbo_clears_it_refuses
from engine.names import disambiguated_display_name
from schemas.commands import CreateQboCustomer, FieldValues, UpdateQboCustomer
from schemas.qbo import QboCustomer

Result = dict[str, Any]


def same_qbo_value(path: str, left: object, right: object) -> bool:
    """engine.fields.same_value for one QBO field: trimmed, empty is None, emails ignore case."""
    a, b = normalise(left), normalise(right)
    if a is None or b is None:
        return a is b
    return a.casefold() == b.casefold() if path in QBO_EMAIL_FIELDS else a == b


def still_to_apply(
    current: QboCustomer, fields: Mapping[str, str | None], base: Mapping[str, str | None]
) -> tuple[FieldValues, FieldValues, list[str]]:
    """After a stale SyncToken: (to send again, already holding the wanted value, skipped).

    A field is sent again only while QBO still holds the value the change was decided on
    (`base`; a field without a base is sent again), so a concurrent QBO edit survives (ADR 0006).
    One that already holds the wanted value needs no write (e.g. our own earlier write, when a
    crashed command runs again): it counts as applied, not as lost to a concurrent change.
    """
    resend: FieldValues = {}
    holding: FieldValues = {}
    skipped: list[str] = []
    for path, value in fields.items():
        now = qbo_value(current, path)
        if same_qbo_value(path, now, value):
            holding[path] = value
        elif path not in base or same_qbo_value(path, now, base[path]):
            resend[path] = value
        else:
            skipped.append(path)
    return resend, holding, skipped


def _update_result(customer: QboCustomer, applied: FieldValues, skipped: list[str]) -> Result:
    return {
        "customer": as_json(customer),
        "applied": without_qbo_clears_it_refuses(applied),
        "skipped_concurrent": skipped,
    }


async def update_customer(
    qbo: QboGateway, command: UpdateQboCustomer, writes: Writes, stale_retries: int
) -> Result:
    data = command.data
    fields: FieldValues = dict(data.fields)
    holding: FieldValues = {}
    skipped: list[str] = []
    token = data.sync_token
    for attempt in range(stale_retries + 1):
        writes.one()
        rid = request_id(command.id, f"r{attempt}" if attempt else "")
        try:
            customer = await qbo.update_customer(data.customer_id, token, fields, rid)
            return _update_result(customer, {**holding, **fields}, skipped)
        except StaleObjectError:
            if attempt == stale_retries:
                raise
        current = await qbo.get_customer(data.customer_id)
        fields, now_holding, now_skipped = still_to_apply(current, fields, data.base)
        holding, skipped = {**holding, **now_holding}, skipped + now_skipped
        if not without_qbo_clears_it_refuses(fields):
            return _update_result(current, holding, skipped)  # nothing left to write
        token = current.SyncToken
    raise AssertionError("unreachable: the last stale attempt re-raises")  # pragma: no cover


def _name_of(fields: Mapping[str, str | None]) -> str | None:
    """The DisplayName asked for, or the one QBO would derive from the other names."""
    given = " ".join(filter(None, (normalise(fields.get(p)) for p in ("GivenName", "FamilyName"))))
    return normalise(fields.get("DisplayName")) or given or normalise(fields.get("CompanyName"))


async def create_customer(
    qbo: QboGateway, command: CreateQboCustomer, writes: Writes, name_retries: int
) -> Result:
    """Create; on a DisplayName clash (6240) the deterministic suffix of rule 6, then `-2`, ..."""
    data = command.data
    customer = await create_named_customer(
        qbo, command.id, data.person_id, data.fields, writes, name_retries
    )
    shown = customer.DisplayName or data.fields.get("DisplayName") or ""
    return {"customer": as_json(customer), "display_name": shown}


async def create_named_customer(
    qbo: QboGateway,
    key: str,
    person_id: int,
    wanted: Mapping[str, str | None],
    writes: Writes,
    name_retries: int,
) -> QboCustomer:
    """Create the customer of CRM person `person_id`, its DisplayName suffixed on each clash.

    `key` names the creation: attempt n sends requestid `key` (then `key-n<n>`), so whoever
    sends the same key gets QBO's replay of the same customer.
    """
    name = _name_of(wanted)
    fields: FieldValues = dict(wanted)
    tried: list[str] = [name] if name else []
    for attempt in range(name_retries + 1):
        writes.one()
        rid = request_id(key, f"n{attempt}" if attempt else "")
        try:
            return await qbo.create_customer(fields, rid)
        except DuplicateNameError:
            if attempt == name_retries:
                raise
        candidate = disambiguated_display_name(name, person_id, tried)
        tried.append(candidate)
        fields = {**wanted, "DisplayName": candidate}
    raise AssertionError("unreachable: the last clash re-raises")  # pragma: no cover
