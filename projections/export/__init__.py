"""`qbsync export`: a tenant's event history as flat tables for analysts (issue 7).

- rows.py: the `events` and `field_changes` tables, column by column, and how events become
  their rows (field changes come from engine/history.py).
- reader.py: one pass over the topics for one tenant, up to the end offsets taken at start.
- writers.py: Parquet, CSV and SQLite, in batches.
- run.py: `export_history(...)`, which puts them together.

docs/export.md documents the tables for the people who read them.
"""

from projections.export.reader import ReadStalled, ReadStats, TopicsMissing
from projections.export.rows import TABLES, Column, EventRow, FieldChangeRow, FieldChanges
from projections.export.run import ExportSummary, export_history
from projections.export.writers import ExportFormat, file_names

__all__ = [
    "TABLES",
    "Column",
    "EventRow",
    "ExportFormat",
    "ExportSummary",
    "FieldChangeRow",
    "FieldChanges",
    "ReadStalled",
    "ReadStats",
    "TopicsMissing",
    "export_history",
    "file_names",
]
