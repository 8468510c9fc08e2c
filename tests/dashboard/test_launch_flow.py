"""The Launch page's state machine (`launch_flow.LaunchFlow`) without a page: every transition
of one browser session, and what a reload or a second tab (a fresh flow) starts from."""

from __future__ import annotations

from medblocks.dashboard.launch import LaunchForm, LaunchOutcome, form_of, new_intent_id
from medblocks.dashboard.launch_flow import (
    LaunchFlow,
    Notices,
    Opened,
    blank_form,
    sources_among,
)
from medblocks.dashboard.ledger import LaunchRecord

NOTHING = Notices()


def record(intent: str, **request: object) -> LaunchRecord:
    return LaunchRecord(
        intent_id=intent,
        target="embedded",
        launched_by="someone",
        requested_at="2026-12-05T00:00:00.000Z",
        patient_id="flow_patient",
        mode="direct" if request.get("connection_id") else "picker",
        request={"patient_id": "flow_patient", "return_url": "http://x/connected", **request},
        session_id="ps_1",
        session_url="http://x/c/1",
        error=None,
        finished_at=None,
    )


def opened_on(intent: str | None = None, patient_id: str = "") -> LaunchFlow:
    flow = LaunchFlow()
    flow.open(intent, patient_id)
    return flow


def test_a_first_view_without_an_intent_mints_one_and_fills_the_urls_patient() -> None:
    flow = LaunchFlow()
    opened = flow.open(None, "user_123")
    assert len(opened.intent) == 32 and flow.intent == opened.intent
    assert not opened.foreign_link and not opened.started_over
    assert flow.form == blank_form("user_123")
    assert flow.form.mode == "picker" and flow.form.expires_in == 1800
    assert flow.open(opened.intent, "user_123") == opened  # the URL now carries it: the same


def test_an_intent_the_dashboard_cannot_have_made_is_replaced_and_said_so() -> None:
    flow = LaunchFlow()
    opened = flow.open("not-an-intent")
    assert opened.foreign_link and opened.intent != "not-an-intent"
    assert LaunchFlow().open("A" * 32).foreign_link  # upper case: not ours either


def test_a_link_with_an_intent_opens_that_launch() -> None:
    intent = new_intent_id()
    opened = LaunchFlow().open(intent, "p1")
    assert opened.intent == intent and not opened.foreign_link and not opened.started_over


def test_create_is_taken_once_and_marks_the_form_tried() -> None:
    flow = opened_on()
    assert not flow.take_press() and not flow.tried  # nothing pressed: no errors shown
    flow.press(str(flow.intent))
    assert flow.take_press() and flow.tried
    assert not flow.take_press() and flow.tried  # the errors keep following the edits


def test_a_press_on_another_intents_form_is_ignored() -> None:
    flow = opened_on()
    flow.press(new_intent_id())
    assert not flow.pressed and not flow.take_press()


def test_created_here_leaves_nothing_to_say() -> None:
    flow = opened_on()
    flow.press(str(flow.intent))
    flow.take_press()
    flow.created(LaunchOutcome(record(str(flow.intent)), created_now=True))
    assert not flow.tried and flow.notices() == NOTHING


def test_a_create_that_found_the_intent_claimed_says_nothing_new_was_made_once() -> None:
    flow = opened_on()
    flow.press(str(flow.intent))
    flow.take_press()
    flow.created(LaunchOutcome(record(str(flow.intent)), created_now=False))
    assert flow.notices() == Notices(already_made=True)
    assert flow.notices() == NOTHING


def test_a_second_tabs_create_on_a_claimed_intent_is_said_on_the_launchs_view() -> None:
    flow = opened_on()  # the form, drawn before the other tab created the launch
    flow.press(str(flow.intent))  # the rerun finds a record: the launch's view, not the form
    assert flow.notices() == Notices(already_made=True)
    assert flow.notices() == NOTHING


def test_a_failed_create_is_shown_once_with_its_error() -> None:
    flow = opened_on()
    flow.press(str(flow.intent))
    flow.take_press()
    refused = RuntimeError("request id req_1: HTTP 500")
    flow.failed(refused)
    assert not flow.tried
    assert flow.notices() == Notices(problem=refused)
    assert flow.notices() == NOTHING  # a later view shows the error as the ledger recorded it


def test_the_same_intent_keeps_what_happened_and_another_starts_fresh() -> None:
    flow = opened_on()
    intent = str(flow.intent)
    flow.press(intent)
    flow.take_press()
    flow.failed(RuntimeError("x"))
    flow.open(intent)  # a rerun of the same view
    assert flow.tried is False and flow.problem is not None
    flow.press(intent)
    flow.open(new_intent_id(), "p2")  # another launch's link in this session
    assert not flow.pressed and not flow.tried and flow.problem is None
    assert flow.form == blank_form("p2")


def test_a_reload_or_a_second_tab_starts_from_the_ledger_alone() -> None:
    flow = opened_on()
    intent = str(flow.intent)
    flow.press(intent)
    flow.failed(RuntimeError("x"))
    fresh = LaunchFlow()  # a reload or a second tab: a new browser session
    assert fresh.open(intent) == flow.open(intent)  # the same launch ...
    assert fresh.notices() == NOTHING and not fresh.take_press()  # ... and nothing pending


def test_launch_again_is_a_new_intent_with_the_recorded_form() -> None:
    flow = opened_on(patient_id="from_the_url")
    old = str(flow.intent)
    flow.press(old)
    flow.take_press()
    made = record(old, connection_id="fhirsrc_1", expires_in=900, return_button_label="Back")
    flow.start_over(made)
    opened = flow.open(old, "from_the_url")  # the URL still names the old launch this run
    assert opened.started_over and opened.intent not in (old, "")
    assert flow.intent == opened.intent
    assert flow.form == form_of(made)  # the recorded form (test_launch_logic: without PHI)
    assert (flow.form.mode, flow.form.source_ids, flow.form.expires_in) == (
        "direct",
        ("fhirsrc_1",),
        900,
    )
    assert not flow.tried and flow.notices() == NOTHING
    assert flow.open(opened.intent) == Opened(opened.intent)  # the URL caught up: kept
    assert flow.form == form_of(made)


def test_new_launch_is_a_new_intent_with_a_blank_form() -> None:
    flow = opened_on(patient_id="from_the_url")
    old = str(flow.intent)
    flow.start_over(None)
    opened = flow.open(old, "from_the_url")
    assert opened.started_over and opened.intent != old
    assert flow.form == blank_form()  # the URL's patient id no longer applies


def test_only_sources_still_in_the_catalog_fill_the_form() -> None:
    form = blank_form()
    assert sources_among(form, ["a"]) == []
    again = LaunchForm(mode="picker", patient_id="p", return_url="", source_ids=("b", "gone", "a"))
    assert sources_among(again, ["a", "b", "c"]) == ["b", "a"]
