"""The store contract: one suite every backend must pass. A backend subclasses `StoreContract`
with a one-line factory: `backend = staticmethod(<context manager yielding a store URL>)`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from store import QbsyncStore, open_store
from tests.store.concurrency_cases import ConcurrencyCases
from tests.store.import_cases import ImportCases
from tests.store.installation_cases import InstallationCases
from tests.store.link_cases import LinkCases
from tests.store.tracking_cases import TrackingCases


class StoreContract(InstallationCases, LinkCases, ImportCases, TrackingCases, ConcurrencyCases):
    backend: Callable[[Path], AbstractContextManager[str]]

    @pytest.fixture
    def store_url(self, tmp_path: Path) -> Iterator[str]:
        with self.backend(tmp_path) as url:
            yield url

    @pytest.fixture
    def open_(self, store_url: str) -> Iterator[Callable[[], QbsyncStore]]:
        """Opens further stores on the same database (other writers, or a restart)."""
        opened: list[QbsyncStore] = []

        def open_another() -> QbsyncStore:
            opened.append(open_store(store_url))
            return opened[-1]

        yield open_another
        for store in opened:
            store.close()

    @pytest.fixture
    def store(self, open_: Callable[[], QbsyncStore]) -> QbsyncStore:
        return open_()
