"""Reports: the four files of a run, parseable, with neither the API key nor PHI in them."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from contract_tests.reports import FILES
from contract_tests.subprocess_run import run_suite
from contract_tests.suite import OPERATIONS_ENV
from contract_tests.target import BREAK_ENV
from medblocks.redaction import sanitize

KNOWN_KEY = "mb_sk_sbx_" + "R3p0rtK3y" * 3
# The pinned document's own example patient: the fuzzer sends it, the sandbox echoes it back.
EXAMPLE_PHI = ("jane@example.com", "Jane Doe")


def test_sanitize_masks_keys_emails_and_names() -> None:
    text = (
        "curl -H 'Authorization: Bearer mb_sk_sbx_abc' -d "
        '\'{"patient_id": "u1", "name": "Jane Doe", "email": "jane@example.com"}\' '
        "{'patient_name': 'Ann Other', 'patient_email': 'ann@example.org'} mb_sk_live_x9 SECRET"
    )
    clean = sanitize(text, ("SECRET",))
    for secret in ("mb_sk_", "Jane Doe", "jane@", "Ann Other", "ann@", "SECRET"):
        assert secret not in clean
    assert '"patient_id": "u1"' in clean  # ids are not PHI: they stay for debugging


def test_reports_of_a_failing_run_hold_no_key_and_no_phi(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    run = run_suite(
        ["contract_tests/test_conformance.py", "contract_tests/test_errors.py"],
        {
            "MEDBLOCKS_SANDBOX_API_KEY": KNOWN_KEY,
            BREAK_ENV: "required-field-dropped",
            OPERATIONS_ENV: "api.createPatient",
        },
        reports,
    )
    assert run.returncode == 1, run.output[-2000:]
    texts = {name: (reports / name).read_text(encoding="utf-8") for name in FILES}
    for name, text in texts.items():
        assert KNOWN_KEY not in text and "mb_sk_" not in text, f"key in {name}"
        for phi in EXAMPLE_PHI:
            assert phi not in text, f"{phi!r} in {name}"
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text), f"an email address in {name}"
    summary = json.loads(texts["contract-summary.json"])
    assert summary["failed"] >= 1 and summary["failures"][0]["request_id"]
    assert set(summary) >= {
        "target",
        "base_url",
        "started_at",
        "finished_at",
        "passed",
        "failed",
        "drift_headline",
        "coverage",
        "failures",
    }
    assert json.loads(texts["drift.json"])["headline"] == summary["drift_headline"] == "in-sync"
    suite = ET.fromstring(texts["contract-junit.xml"].split("?>", 1)[1])
    assert suite.get("failures") == "1" and suite.get("name") == "contract_tests"
    assert "**in-sync**" in texts["contract-report.md"]
