"""The hosted page without test mode (`hosted_test_mode=False`, `--patient-view`): what a
patient of a live organisation sees. No badge, no personas, no EHR vendor words, no test
server; the app is named after the configured organisation."""

from __future__ import annotations

import re

import httpx
import pytest

from medblocks.sandbox import SandboxConfig
from medblocks.sandbox.__main__ import main

RETURN_URL = "https://app.example.test/connected"


@pytest.fixture
def sandbox_config(api_key: str) -> SandboxConfig:
    return SandboxConfig(api_key=api_key, hosted_test_mode=False, organisation_name="Acme Care")


def _path(api: httpx.Client) -> str:
    session = api.post("/patient-sessions", json={"patient_id": "pv_1", "return_url": RETURN_URL})
    path: str = httpx.URL(session.json()["url"]).path
    return path


SANDBOX_WORDS = (
    "test mode",
    "test server",
    "sandbox",
    "persona",
    "pass_good",
    "epic",
    "cerner",
    "athena",
    "meditech",
    "eclinicalworks",
    "veradigm",
    "nextgen",
)


def _assert_no_sandbox_words(text: str) -> None:
    """The text a patient reads (tags, attributes and the stylesheet left out)."""
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", text, flags=re.S))
    visible = visible.lower()
    for word in SANDBOX_WORDS:
        assert word not in visible, word


def test_patients_see_no_sandbox_words_on_any_step(api: httpx.Client, raw: httpx.Client):
    sources = api.get("/connections", params={"limit": 100}).json()["data"]
    test_server = next(s for s in sources if "Test Server" in s["name"])
    path = _path(api)
    picker = raw.get(path)
    _assert_no_sandbox_words(picker.text)
    listed = re.findall(r'data-source-id="([^"]+)"', picker.text)
    assert test_server["id"] not in listed and len(listed) == len(sources) - 1
    assert '<span class="app" id="app-name">Acme Care</span>' in picker.text
    source = sources[1]["id"]  # an eClinicalWorks source in the demo catalog
    sign_in = raw.get(f"{path}/sources/{source}", params={"username": "user_good"})
    _assert_no_sandbox_words(sign_in.text)
    assert 'name="username" value=""' in sign_in.text  # no chips, so nothing fills it
    refused = raw.post(
        f"{path}/sources/{source}/sign-in", data={"username": "nobody", "password": "x"}
    )
    assert refused.status_code == 400
    assert "That username and password did not match." in refused.text
    _assert_no_sandbox_words(refused.text)
    raw.post(
        f"{path}/sources/{source}/sign-in", data={"username": "user_good", "password": "pass_good"}
    )
    consent = raw.get(f"{path}/sources/{source}/consent", params={"persona": "user_good"})
    _assert_no_sandbox_words(consent.text.replace("user_good", ""))
    raw.post(
        f"{path}/sources/{source}/consent", data={"persona": "user_good", "decision": "approve"}
    )
    done = raw.get(f"{path}/done")
    _assert_no_sandbox_words(done.text)
    assert "Done — return to Acme Care" in done.text


def test_the_command_line_refuses_an_empty_organisation_name(capsys: pytest.CaptureFixture[str]):
    assert main(["--memory", "--organisation-name", " "]) == 2
    assert "--organisation-name must be 1 to 60 characters" in capsys.readouterr().err
