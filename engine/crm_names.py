"""A CRM person's name fields as the CRM stores them (SYNC-RULES 3: `full_name ⇄ DisplayName`).

Pipeline CRM derives `full_name` from `first_name` + `last_name`. A written `full_name` is split at
its first space, explicit names in the same body win, and a person needs a first or last name
(sandbox/crm/writes.py models this). Writing QBO's DisplayName into `full_name` next to the names
would therefore re-split them: "Smith Tools Inc" becomes first "Smith", last "Tools Inc".

Decisions, applied to every update the engine sends to a CRM person:
- When `first_name` or `last_name` is mapped, `full_name` is never written: it follows from the
  names. It is still compared, so a DisplayName change still counts as a change and a conflict.
- An update that would leave the person with neither name keeps the names; if it carries a
  `full_name` (QBO's DisplayName), that is written instead and the CRM splits it.
- `full_name` is never cleared, the counterpart of QBO never emptying DisplayName.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from engine.fields import derived_full_name
from schemas.commands import FieldValues

NAME_PARTS = ("first_name", "last_name")
FULL_NAME = "full_name"


def shape_crm_name_updates(
    updates: Mapping[str, str | None],
    current: Mapping[str, str | None],
    mapped_crm_fields: Collection[str],
) -> FieldValues:
    """Rewrite the name fields of a CRM update so the CRM keeps consistent names (module rules).

    `current` holds the person's mapped values before the update ({} for a new person).
    """
    shaped = dict(updates)
    full_name = shaped.pop(FULL_NAME, None)
    if not any(part in mapped_crm_fields for part in NAME_PARTS):
        if full_name is not None:
            shaped[FULL_NAME] = full_name
        return shaped
    resulting = [shaped.get(part, current.get(part)) for part in NAME_PARTS]
    if any(resulting):
        return shaped
    for part in NAME_PARTS:
        if part in shaped and shaped[part] is None:
            del shaped[part]
    if full_name is not None:
        shaped[FULL_NAME] = full_name
    return shaped


def split_full_name(full_name: str | None) -> tuple[str | None, str | None]:
    """How the CRM splits a written `full_name`: at the first space; one word is a first name."""
    if not full_name:
        return None, None
    first, _, last = full_name.strip().partition(" ")
    return first or None, last.strip() or None


def crm_values_after_write(
    current: Mapping[str, str | None],
    written: Mapping[str, str | None],
    mapped_crm_fields: Collection[str],
) -> FieldValues:
    """The mapped values a CRM person holds after `written` is applied, names as the CRM derives.

    A written `full_name` is split into the names and explicit names win; when both names are
    mapped, `full_name` is derived from them (with only one mapped it cannot be predicted, and
    the value written or held is kept).
    """
    after = {**current, **written}
    if FULL_NAME in written:
        for part, value in zip(NAME_PARTS, split_full_name(written[FULL_NAME]), strict=True):
            if part in mapped_crm_fields and part not in written:
                after[part] = value
    if FULL_NAME in mapped_crm_fields and all(part in mapped_crm_fields for part in NAME_PARTS):
        after[FULL_NAME] = derived_full_name(after.get("first_name"), after.get("last_name"))
    return after
