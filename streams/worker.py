"""Run one Faust worker of the engine (`qbsync worker`)."""

from __future__ import annotations

import asyncio

import faust

from qbsync.config import Settings
from qbsync.logs import configure_logging, get_logger
from streams.admin import cluster_id_of, ensure_topics
from streams.app import build_engine, sized_topics
from streams.codecs import register as register_codecs

log = get_logger(__name__)


def run_worker(settings: Settings, bootstrap: str) -> None:
    configure_logging(settings.log_level, settings.log_format)
    register_codecs()
    created = asyncio.run(ensure_topics(bootstrap, sized_topics(settings)))
    log.info("topics_ready", bootstrap=bootstrap, created=created)
    cluster_id = asyncio.run(cluster_id_of(bootstrap))
    engine = build_engine(settings, bootstrap, cluster_id)
    worker = faust.Worker(
        engine.app,
        loglevel=settings.log_level,
        override_logging=False,  # keep our structlog handler (and its secret redaction)
        redirect_stdouts=False,
        quiet=True,
    )
    worker.execute_from_commandline()
