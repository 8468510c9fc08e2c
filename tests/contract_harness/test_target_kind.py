"""The target is named for what it is, by asking it: a sandbox with `/_sandbox` controls (which
also says which faults are on, and its rate limit, which the run keeps within), a Medblocks
sandbox workspace, or "a server" - never "sandbox" for a loopback address alone. A run against
a sandbox with faults on says so first, and stays within its rate limit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from contract_tests.pacing import Pacer
from contract_tests.subprocess_run import run_suite
from contract_tests.target import (
    A_SERVER,
    MEDBLOCKS_WORKSPACE,
    SANDBOX_WITH_CONTROLS,
    ContractTarget,
    identify,
    name_target,
)
from medblocks.sandbox import SandboxConfig, start_in_thread

KEY = "mb_sk_sbx_01TARGETKINDKEY000000000000"


def test_a_served_sandbox_is_named_by_its_controls_and_its_faults_read() -> None:
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as server:
        faults = {"latency_ms": 5, "rate_limit_per_second": 20}
        auth = {"Authorization": f"Bearer {server.api_key}"}
        httpx.put(f"{server.base_url}/_sandbox/faults", json=faults, headers=auth)
        target = ContractTarget(A_SERVER, server.base_url, server.api_key)
        identify(target)
    assert target.label == SANDBOX_WITH_CONTROLS and target.is_sandbox
    assert target.faults_active == faults
    assert target.pacer.per_second == pytest.approx(10.0)  # half its limit


@pytest.mark.parametrize(
    ("base_url", "key", "kind"),
    [
        ("https://app.medblocks.com", KEY, MEDBLOCKS_WORKSPACE),
        ("http://127.0.0.1:4010", KEY, A_SERVER),  # loopback, no controls: a server
        ("https://proxy.example.test", KEY, A_SERVER),
    ],
)
def test_without_controls_the_key_and_host_decide(base_url: str, key: str, kind: str) -> None:
    target = ContractTarget(A_SERVER, base_url, key)
    name_target(target, None)
    assert target.label == kind and not target.is_sandbox and target.faults_active == {}


def test_the_pacer_spaces_requests_and_holds_them_after_a_429() -> None:
    pacer = Pacer(per_second=50)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [pacer.wait() for _ in range(5)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 19 / 50  # 20 starts, 1/50 s apart at the least
    pacer.throttled_for(1)
    held = time.monotonic()
    pacer.wait()
    assert time.monotonic() - held >= 0.9 and pacer.throttled == 1
    assert pacer.per_second == pytest.approx(50 * 0.75)  # and slower from then on


def test_faults_on_at_the_target_head_the_report(tmp_path: Path) -> None:
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as server:
        faults = {"latency_ms": 20, "rate_limit_per_second": 20}
        auth = {"Authorization": f"Bearer {server.api_key}"}
        httpx.put(f"{server.base_url}/_sandbox/faults", json=faults, headers=auth)
        env = {
            "MEDBLOCKS_API_URL": server.base_url,
            "MEDBLOCKS_API_KEY": server.api_key,
            "MEDBLOCKS_CONTRACT_OPERATIONS": "api.listPatients",
        }
        selection = [
            "contract_tests/test_prose.py",
            "contract_tests/test_conformance.py",
            "-k",
            "put-full-replace or patients-filter or GET",
        ]
        run = run_suite(selection, env, tmp_path / "reports", stop_at_first=False)
    assert run.output.splitlines()[0] == (
        f"contract target: {SANDBOX_WITH_CONTROLS} at {server.base_url}"
    )
    summary = run.summary()
    first = summary["root_causes"][0]["cause"]
    assert first.startswith("faults are on at the target (latency_ms 20, rate_limit_per_second 20")
    report = (run.reports / "contract-report.md").read_text(encoding="utf-8")
    assert report.splitlines()[4].startswith("- faults are on at the target (latency_ms 20")
    assert summary["not_run"] == {}
    # The run paces itself at half the limit; a server starved of CPU on a busy machine can
    # still let delayed requests through in a bunch, and then the limit refuses one (a write
    # is never sent again). Such a failure is a 429, and the report names the rate limit.
    failed = summary["failures"]
    other = [f for f in failed if f["status"] != 429 and "429 Too Many" not in f["message"]]
    assert run.returncode == (1 if failed else 0) and other == [], other
    assert summary["root_causes"][0]["checks"] == sum(f["count"] for f in failed)


def test_reads_the_rate_limit_refused_are_asked_again_writes_never() -> None:
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as server:
        auth = {"Authorization": f"Bearer {server.api_key}"}
        burst = {"rate_limit_burst": 2, "retry_after": 1}  # the next two answers: 429
        httpx.put(f"{server.base_url}/_sandbox/faults", json=burst, headers=auth)
        target = ContractTarget(A_SERVER, server.base_url, server.api_key)
        with target.client() as api:
            read = api.get("/patients", params={"limit": 1})
            assert read.status_code == 200 and target.pacer.throttled == 2  # asked 3 times
            httpx.put(f"{server.base_url}/_sandbox/faults", json=burst, headers=auth)
            write = api.post("/webhooks", json={"url": "https://example.test/h", "events": ["*"]})
            assert write.status_code == 429 and target.pacer.throttled == 3  # sent once
            assert target.pacer.per_second is not None  # and slower from the first 429 on
