"""The account's configuration: deal pipelines and stages, lead statuses and sources, person tags,
custom field labels and the currency (reference 2.6, 2.7).

Fixed per sandbox (names, percents and colours as in the recorded default account); read by the
`/admin/...` lookups, embedded in records (`deal_stage`, `lead_status`) and checked on writes.
Custom field values are stored as Pipeline shows them: currency and numeric as decimal strings,
dates as `YYYY/MM/DD`, dropdowns as an entry id, multi-selects as a list of entry ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

CustomFieldKind = Literal["person", "company", "deal"]
FieldType = Literal["text", "boolean", "currency", "date", "dropdown", "numeric", "multi_select"]

Stamp = Callable[[datetime], "str | None"]  # the account's timestamp format

CONFIGURED_AT = datetime(2021, 1, 21, 16, 8, 46, tzinfo=UTC)
USD = {"id": 1, "name": "United States Dollar", "code": "USD", "symbol": "$", "decimal_places": 2}


@dataclass(frozen=True)
class Stage:
    id: int
    name: str
    percent: int
    pipeline_id: int


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    default: bool
    won_stage: int
    lost_stage: int


@dataclass(frozen=True)
class Label:
    id: int
    kind: CustomFieldKind
    name: str
    field_type: FieldType
    entries: tuple[tuple[int, str], ...] = ()

    @property
    def key(self) -> str:
        return f"custom_label_{self.id}"


@dataclass(frozen=True)
class Lookups:
    pipelines: tuple[Pipeline, ...]
    stages: tuple[Stage, ...]
    lead_statuses: tuple[tuple[int, str, str], ...]  # id, name, hex colour
    lead_sources: tuple[tuple[int, str], ...]
    person_tags: tuple[tuple[int, str], ...]
    labels: tuple[Label, ...]
    _by_id: dict[str, dict[int, Any]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update(
            stage={s.id: s for s in self.stages},
            pipeline={p.id: p for p in self.pipelines},
            lead_status={s[0]: s for s in self.lead_statuses},
            lead_source={s[0]: s for s in self.lead_sources},
            person_tag={t[0]: t for t in self.person_tags},
        )

    def find(self, kind: str, id_: int | None) -> Any:
        return None if id_ is None else self._by_id[kind].get(id_)

    def default_pipeline(self) -> Pipeline:
        return next(p for p in self.pipelines if p.default)

    def first_stage(self, pipeline_id: int) -> Stage:
        return next(s for s in self.stages if s.pipeline_id == pipeline_id and s.percent > 0)

    def labels_for(self, kind: CustomFieldKind) -> list[Label]:
        return [label for label in self.labels if label.kind == kind]

    # -- JSON shapes -----------------------------------------------------------------------
    def stage_json(self, stage: Stage, stamp: Stamp) -> dict[str, Any]:
        return {
            "id": stage.id,
            "name": stage.name,
            "percent": stage.percent,
            "deal_pipeline_id": stage.pipeline_id,
            "created_at": stamp(CONFIGURED_AT),
            "updated_at": stamp(CONFIGURED_AT),
        }

    def pipeline_json(self, pipeline: Pipeline, deal_count: int, stamp: Stamp) -> dict[str, Any]:
        return {
            "id": pipeline.id,
            "name": pipeline.name,
            "default": pipeline.default,
            "pipeline_type": "new_revenue",
            "description": None,
            "has_deals": deal_count > 0,
            "count_deals": deal_count,
            "won_stage": pipeline.won_stage,
            "lost_stage": pipeline.lost_stage,
            "created_at": stamp(CONFIGURED_AT),
            "updated_at": stamp(CONFIGURED_AT),
        }

    def label_json(self, label: Label, position: int, stamp: Stamp) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": label.id,
            "name": label.name,
            "field_type": label.field_type,
            "output_type": label.field_type,
            "is_required": False,
            "report_behavior": None,
            "position": position,
            "type": f"{label.kind.capitalize()}CustomFieldLabel",
            "custom_field_group_id": None,
            "locked": False,
            "custom_field_permissions": [],
            "created_at": stamp(CONFIGURED_AT),
            "updated_at": stamp(CONFIGURED_AT),
        }
        if label.field_type in ("dropdown", "multi_select"):
            body["custom_field_label_dropdown_entries"] = [
                {"id": entry_id, "name": name, "position": i, "custom_field_label_id": label.id}
                for i, (entry_id, name) in enumerate(label.entries, start=1)
            ]
        return body

    def lead_status_json(self, id_: int | None) -> dict[str, Any] | None:
        found = self.find("lead_status", id_)
        return None if found is None else {"id": found[0], "name": found[1], "hex_color": found[2]}

    def lead_source_json(self, id_: int | None) -> dict[str, Any] | None:
        found = self.find("lead_source", id_)
        if found is None:
            return None
        return {
            "id": found[0],
            "name": found[1],
            "cost_per_lead_in_cents": None,
            "flat_fee_in_cents": None,
        }


def default_lookups() -> Lookups:
    sales, renewals = 339554, 339555
    return Lookups(
        pipelines=(
            Pipeline(sales, "Sales Pipeline", True, won_stage=2599200, lost_stage=2599195),
            Pipeline(renewals, "Renewals", False, won_stage=2599302, lost_stage=2599303),
        ),
        stages=(
            Stage(2599195, "Lost", 0, sales),
            Stage(2599196, "Qualified", 10, sales),
            Stage(2599197, "Request for Info", 25, sales),
            Stage(2599198, "Presentation", 50, sales),
            Stage(2599199, "Negotiation", 75, sales),
            Stage(2599200, "Won", 100, sales),
            Stage(2599301, "Renewal Due", 20, renewals),
            Stage(2599302, "Renewed", 100, renewals),
            Stage(2599303, "Churned", 0, renewals),
        ),
        lead_statuses=(
            (7, "Archived", "000000"),
            (8, "Cold", "1480eb"),
            (9, "Follow-up", "5bb75b"),
            (10, "Hot", "eb2d14"),
            (11, "Warm", "eb8614"),
        ),
        lead_sources=(
            (8, "Cold Call"),
            (9, "Import"),
            (10, "None"),
            (11, "Referral"),
            (12, "Trade Show"),
            (13, "Website"),
        ),
        person_tags=(
            (1087, "Decision Maker"),
            (1088, "Do Not Contact"),
            (1089, "Existing Customer"),
            (1090, "Partner"),
            (1091, "Vendor"),
            (1092, "VIP"),
        ),
        labels=(
            Label(4005301, "person", "Customer Number", "text"),
            Label(
                4005302,
                "person",
                "Preferred Contact Method",
                "dropdown",
                ((3201, "Email"), (3202, "Phone"), (3203, "Text message")),
            ),
            Label(4005303, "person", "Newsletter", "boolean"),
            Label(4005304, "person", "Lifetime Value", "currency"),
            Label(4005305, "person", "First Contacted", "date"),
            Label(
                4005306,
                "person",
                "Interests",
                "multi_select",
                ((3211, "Design"), (3212, "Maintenance"), (3213, "Irrigation")),
            ),
            Label(4005323, "company", "Region", "dropdown", ((3117, "North"), (3118, "South"))),
            Label(4005324, "company", "Industry", "text"),
            Label(4005325, "deal", "Crew Size", "numeric"),
        ),
    )
