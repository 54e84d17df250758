"""What the CRM says about the key's user and account, and the types of write arguments.

Records (people, companies, deals) are the snapshot models of schemas/crm.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from schemas.common import SnapshotModel

# CRM field name → value; None clears. Custom fields as `custom_fields.<key>` (schemas/settings).
FieldValues = Mapping[str, str | None]

# `conditions[...]` values: a scalar, a list (`[]`), or named parts (`[from_date]`, `[to]`).
ConditionValue = str | int | Sequence[str | int] | Mapping[str, str | int]
Conditions = Mapping[str, ConditionValue]


class CrmProfile(SnapshotModel):
    """`GET /profile`: the user the api_key belongs to."""

    id: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    account_id: int | None = None
    is_account_admin: bool = False
    time_zone: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.is_account_admin


class CrmAccount(SnapshotModel):
    """`GET /account`: the CRM account (one installation)."""

    id: int
    company_name: str | None = None
    time_zone: str | None = None


class CrmAccountNotification(SnapshotModel):
    """The bell in Pipeline's UI: one `text` for one user (the caller unless `user_id`)."""

    id: int
    user_id: int | None = None
    text: str | None = None
