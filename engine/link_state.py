"""A customer link as the engine knows it, and how link decisions fold into it.

The decisions topic carries every change the engine makes to a link (`LinkMade`, `LinkObserved`,
`LinkSynced`, `LinkEnded`, `LinkInactive`, `LinkMoved`), each with its cause. Folding them in
order with `fold_link` gives the link's state: the store does it to load a link, and a replay of
the decisions topic does the same, so the live state and any rebuilt one cannot disagree.

`agreed` is the target: per mapped pair (keyed by CRM path) the value both sides should hold,
when and where the change that set it happened, and the command still writing it, if any.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from schemas.common import FrozenModel
from schemas.decisions import (
    AgreedValue,
    ConflictNote,
    LinkDecisionData,
    LinkEnded,
    LinkInactive,
    LinkMade,
    LinkMoved,
    LinkObserved,
    LinkSynced,
    Side,
)
from schemas.envelope import Envelope

LinkStatus = Literal["active", "inactive", "ended"]
LINK_DECISION_TYPES = (LinkMade, LinkObserved, LinkSynced, LinkEnded, LinkInactive, LinkMoved)


class LinkState(FrozenModel):
    tenant: str
    person_id: int
    customer_id: str
    realm_id: str
    via: str
    status: LinkStatus = "active"
    crm: dict[str, Any] = Field(description="the CRM person as last seen or written")
    qbo: dict[str, Any] = Field(description="the QBO customer as last seen or written")
    qbo_sync_token: str
    crm_changed_at: AwareDatetime | None = None
    qbo_changed_at: AwareDatetime | None = None
    agreed: dict[str, AgreedValue] = Field(default_factory=dict)
    last_written: Side | None = Field(default=None, description="side of the latest write")
    written_crm: dict[str, str | None] = Field(
        default_factory=dict, description="what the engine last wrote to each CRM field"
    )
    written_qbo: dict[str, str | None] = Field(
        default_factory=dict, description="what the engine last wrote to each QBO field"
    )
    conflicts: tuple[ConflictNote, ...] = ()
    former_customer_ids: tuple[str, ...] = ()
    first_import_done: bool = False
    import_request_id: str | None = None
    last_input_id: str
    updated_at: AwareDatetime


def _later(current: datetime | None, new: datetime | None) -> datetime | None:
    if new is None:
        return current
    return new if current is None or new > current else current


def _confirmed(agreed: dict[str, AgreedValue], command_id: str | None) -> dict[str, AgreedValue]:
    if command_id is None:
        return agreed
    return {
        path: value.model_copy(update={"pending": None}) if value.pending == command_id else value
        for path, value in agreed.items()
    }


def fold_link(state: LinkState | None, decision: Envelope) -> LinkState:
    """The link after one more decision. A `LinkMade` starts (or restarts) it; anything else
    needs a link to apply to."""
    if isinstance(decision, LinkMade):
        made = decision.data
        return LinkState(
            tenant=decision.tenant,
            person_id=made.person_id,
            customer_id=made.customer_id,
            realm_id=made.realm_id,
            via=made.via,
            crm=made.crm,
            qbo=made.qbo,
            qbo_sync_token=made.qbo_sync_token,
            agreed=made.agreed,
            last_written="crm" if made.crm_changes else None,
            written_crm={change.field: change.after for change in made.crm_changes},
            written_qbo={change.field: change.after for change in made.qbo_changes},
            conflicts=made.conflicts,
            first_import_done=made.via == "import",
            import_request_id=made.import_request_id,
            last_input_id=made.input_id,
            updated_at=decision.time,
        )
    if state is None:
        raise ValueError(f"{decision.type} {decision.id} needs a link to apply to")
    data = decision.data
    if not isinstance(data, LinkDecisionData):
        raise TypeError(f"{decision.type} is not a link decision")
    common: dict[str, Any] = {"last_input_id": data.input_id, "updated_at": decision.time}
    if isinstance(decision, LinkObserved):
        seen = decision.data
        side_update: dict[str, Any]
        if seen.side == "crm":
            side_update = {
                "crm": seen.snapshot,
                "crm_changed_at": _later(state.crm_changed_at, seen.changed_at),
            }
        else:
            side_update = {
                "qbo": seen.snapshot,
                "qbo_sync_token": seen.version or state.qbo_sync_token,
                "qbo_changed_at": _later(state.qbo_changed_at, seen.changed_at),
            }
        return state.model_copy(
            update={
                **common,
                **side_update,
                "agreed": _confirmed(state.agreed, seen.confirms),
                "conflicts": (*state.conflicts, *seen.conflicts),
            }
        )
    if isinstance(decision, LinkSynced):
        synced = decision.data
        written = {change.field: change.after for change in synced.changes}
        memory = (
            {"written_crm": {**state.written_crm, **written}}
            if synced.written_side == "crm"
            else {"written_qbo": {**state.written_qbo, **written}}
        )
        return state.model_copy(
            update={
                **common,
                "crm": synced.crm,
                "qbo": synced.qbo,
                "qbo_sync_token": synced.qbo_sync_token,
                "crm_changed_at": _later(state.crm_changed_at, synced.crm_changed_at),
                "qbo_changed_at": _later(state.qbo_changed_at, synced.qbo_changed_at),
                "agreed": {**state.agreed, **synced.agreed},
                "last_written": synced.written_side,
                **memory,
                "conflicts": (*state.conflicts, *synced.conflicts),
            }
        )
    if isinstance(decision, LinkEnded):
        return state.model_copy(update={**common, "status": "ended"})
    if isinstance(decision, LinkInactive):
        return state.model_copy(update={**common, "status": "inactive"})
    if isinstance(decision, LinkMoved):
        moved = decision.data
        return state.model_copy(
            update={
                **common,
                "status": "active",
                "customer_id": moved.to_customer_id,
                "former_customer_ids": (*state.former_customer_ids, state.customer_id),
                "qbo": moved.qbo if moved.qbo is not None else state.qbo,
                "qbo_sync_token": moved.qbo_sync_token or state.qbo_sync_token,
            }
        )
    raise TypeError(f"{decision.type} is not a link decision")
