"""The launch ledger in the mirror's database: one launch per intent, decided by the table's
primary key, across threads and across two "replicas" (separate engines) on one database."""

from __future__ import annotations

import threading

from medblocks.dashboard.ledger import Ledger
from medblocks.mirror import Mirror, open_mirror


def test_one_launch_per_intent_across_replicas(mirror: Mirror, database_url: str) -> None:
    replicas = [Ledger(mirror), Ledger(open_mirror(database_url)), Ledger(database_url)]
    winners: list[int] = []
    start = threading.Barrier(12)

    def click(index: int) -> None:
        start.wait()
        fresh = replicas[index % 3].begin(
            intent_id="intent-1",
            target="embedded",
            launched_by=f"replica-{index % 3}",
            patient_id="u1",
            mode="picker",
            request={"n": index},
        )
        if fresh is None:
            winners.append(index)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    record = replicas[2].get("intent-1")
    assert record is not None and record.in_flight
    assert record.request == {"n": winners[0]}
    replicas[1].succeed("intent-1", session_id="ps_1", session_url="http://x/c/1")
    done = replicas[0].get("intent-1")
    assert done is not None and done.session_id == "ps_1" and not done.in_flight
    replicas[0].begin(
        intent_id="intent-2",
        target="embedded",
        launched_by="qa",
        patient_id="u2",
        mode="direct",
        request={},
    )
    replicas[2].fail("intent-2", error="req_1: HTTP 400")
    assert [r.intent_id for r in replicas[1].recent()] == ["intent-2", "intent-1"]
    assert replicas[1].get("intent-2").error == "req_1: HTTP 400"  # type: ignore[union-attr]
