"""Read models built only from the events on the qbsync topics, and the query API over them.

- `ProjectionDb.open(url)`: the `proj_*` tables on SQLite or PostgreSQL (projections/db.py).
- `Projector(db).apply(event, position)` / `.apply_batch(items)`: fold events in, once per Kafka
  position (projections/projector.py); links, customers, imports, health and documents each fold
  their own events (links.py, customers.py, imports.py, health.py, documents.py).
- `ProjectionReader(db)`: tenant-scoped queries returning the models of projections/models.py;
  documents are read for one user, by their visibility (document_queries.py), and a request's
  fate from the health rows and document decisions (request_status.py).
- `ProjectionRunner(bootstrap, projector)`: reads every topic and applies it (runner.py).
- `query_router(reader, keys)`: `GET /v1/tenants/{tenant}/...` (http.py).
"""

from projections.db import ProjectionDb, ProjectionUrlError
from projections.projector import DEFAULT_CONSUMER, Position, Projector
from projections.queries import ProjectionReader

__all__ = [
    "DEFAULT_CONSUMER",
    "Position",
    "ProjectionDb",
    "ProjectionReader",
    "ProjectionUrlError",
    "Projector",
]
