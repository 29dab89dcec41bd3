"""Hub processes sharing one database take each queued run exactly once: on PostgreSQL by
locking the run's row and skipping those another process holds, on SQLite by taking turns."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select

from crunch_cli.hub import runs
from crunch_cli.hub.models import Run
from crunch_cli.hub.store import HubStore

pytestmark = [pytest.mark.both_databases, pytest.mark.hub_workers(0)]

QUEUED = 24
HUBS = 2
WORKERS_PER_HUB = 4

MAIN = b"def train():\n    pass\n\n\ndef infer():\n    pass\n"


def queue_runs(caller, count: int) -> list[int]:
    pushed = caller.submit({"main.py": MAIN})
    assert pushed.status_code == 200, pushed.text
    return [caller.create_run(pushed.json()["id"])["id"] for _ in range(count)]


def test_two_hubs_on_one_database_claim_each_queued_run_exactly_once(hub, caller):
    queued = queue_runs(caller, QUEUED)
    stores = [HubStore(hub.settings) for _ in range(HUBS)]
    start = threading.Barrier(HUBS * WORKERS_PER_HUB)
    claims: list[tuple[str, int]] = []

    def work(store: HubStore, worker: str) -> None:
        start.wait()
        while (run_id := runs.next_queued(store, worker)) is not None:
            claims.append((worker, run_id))

    threads = [
        threading.Thread(target=work, args=(store, f"hub-{number}:worker-{slot}"))
        for number, store in enumerate(stores)
        for slot in range(WORKERS_PER_HUB)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with stores[0].session(write=False) as session:
            recorded = {row.id: row.worker for row in session.execute(select(Run.id, Run.worker))}
    finally:
        for store in stores:
            store.close()

    counts = Counter(run_id for _, run_id in claims)
    assert sorted(counts) == sorted(queued)
    assert set(counts.values()) == {1}
    assert recorded == {run_id: worker for worker, run_id in claims}


# SQLite has no row locks: its writers take turns on the whole database.
@pytest.mark.parametrize("hub_database", ["postgresql"], indirect=True)
def test_a_claim_skips_a_run_another_hub_holds_instead_of_waiting_for_it(hub, caller):
    first, second = queue_runs(caller, 2)
    with HubStore(hub.settings) as holder, HubStore(hub.settings) as other:
        with holder.session() as session:
            locked = session.scalar(select(Run.id).where(Run.id == first).with_for_update())
            started = time.monotonic()
            claimed = runs.next_queued(other, "other-hub")
            waited = time.monotonic() - started

        assert (locked, claimed) == (first, second)
        assert waited < 2
        assert runs.next_queued(other, "other-hub") == first
