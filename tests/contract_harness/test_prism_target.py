"""The suite against a server nobody here wrote: Prism's stateless mock of the published
document (no `X-Request-Id`, nothing kept, canned examples, any key accepted, no document
served). The report names it "a server", puts the causes that explain most results first,
each once with its count, and its clean-up names only what the run made."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from contract_tests.subprocess_run import ChildRun, run_suite

KEY = "mb_sk_sbx_01PRISMTARGETKEY0000000000000"


@pytest.fixture(scope="module")
def prism_run(prism_url: str, tmp_path_factory: pytest.TempPathFactory) -> ChildRun:
    env = {"MEDBLOCKS_API_URL": prism_url, "MEDBLOCKS_API_KEY": KEY}
    reports = tmp_path_factory.mktemp("prism") / "reports"
    plain = f"--junitxml={reports.parent / 'out.xml'}"  # what a CI user types
    return run_suite(["contract_tests", plain], env, reports, stop_at_first=False)


@pytest.mark.prism
def test_the_report_opens_with_the_root_causes_each_once_with_counts(
    prism_run: ChildRun, prism_url: str
) -> None:
    assert prism_run.returncode == 1, prism_run.output[-2000:]
    report = (prism_run.reports / "contract-report.md").read_text(encoding="utf-8")
    first = report.splitlines()[:8]
    assert first[:2] == ["# Contract run", ""]
    assert first[2] == "## Root causes (each explains many results)"
    stateless = [line for line in first if "the server keeps no state" in line]
    request_ids = [line for line in first if "no X-Request-Id on any answer" in line]
    assert len(stateless) == 1 and len(request_ids) == 1, first
    assert stateless[0].endswith(" checks]") and request_ids[0].endswith("[1 check]")
    assert report.count("the server keeps no state") == 1
    assert report.count("no X-Request-Id on any answer") == 1
    # The missing header failed its own check once; the other checks said what they saw.
    summary = prism_run.summary()
    missing = [f for f in summary["failures"] if "no X-Request-Id" in f["message"]]
    assert [f["count"] for f in missing] == [1], missing
    # Both JUnit files say the same, as properties ahead of the test cases.
    for junit in (prism_run.reports / "contract-junit.xml", prism_run.reports.parent / "out.xml"):
        properties = [
            p.get("value", "")
            for p in ET.parse(junit).getroot().iter("property")
            if p.get("name") == "root-cause"
        ]
        assert sum("the server keeps no state" in p for p in properties) == 1, properties
        assert sum("no X-Request-Id on any answer" in p for p in properties) == 1, properties
    # The terminal says the same before pytest's list of failures.
    causes_at = prism_run.output.index("root causes (each explains many results)")
    assert causes_at < prism_run.output.index("= FAILURES =")


@pytest.mark.prism
def test_the_target_is_a_server_and_cleanup_names_only_what_the_run_made(
    prism_run: ChildRun, prism_url: str
) -> None:
    assert prism_run.output.splitlines()[0] == f"contract target: a server at {prism_url}"
    summary = prism_run.summary()
    assert summary["target"] == "a server"
    # The canned patient, session, endpoint events of the mock are the server's, not the run's.
    assert summary["cleanup"]["problems"] == [], summary["cleanup"]
    assert "user_42" not in prism_run.output.split("clean-up: ", 1)[1]
