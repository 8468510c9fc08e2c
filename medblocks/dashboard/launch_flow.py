"""The Launch page's state machine, without Streamlit: which launch a view is about, and what
Create, a failed or an already-claimed create, a reload, a second tab and "launch again" lead to.

What a launch *is* lives in the shared ledger, keyed by the intent id in the page's URL; a
`LaunchFlow` holds only what one browser session did on the page (the page keeps it in one
session-state key). So a reload or a second tab (a new browser session: a fresh flow) finds the
launch in the ledger, never a second create:

- no ledger record for the intent: the form. Create marks the form `tried` (its errors show from
  then on, following the edits); a valid form is created once (`launch_once` claims the intent
  first) and the view moves on:
  - created here: the launch's view;
  - failed here: the launch's view, with this failure and its request id shown once (a later
    view shows the error as recorded);
  - claimed by another run meanwhile (another tab, or the page before a reload): the launch's
    view, saying that nothing new was created.
- a record: its stage decides the view (`launch.launch_stage`); Create pressed on a form whose
  intent another run claimed in the meantime says so too.
- "Launch again" (the recorded form) or "New launch" (a blank one): a new intent, minted here,
  and the form filled from it; the URL's `patient_id` no longer applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from medblocks.dashboard.launch import (
    LaunchForm,
    LaunchOutcome,
    form_of,
    is_intent_id,
    new_intent_id,
)
from medblocks.dashboard.ledger import LaunchRecord


def blank_form(patient_id: str = "") -> LaunchForm:
    """A new launch's form: picker mode, the default expiry, `patient_id` (from the URL) filled."""
    return LaunchForm(mode="picker", patient_id=patient_id, return_url="")


def sources_among(form: LaunchForm, options: Iterable[str]) -> list[str]:
    """The form's sources that are still in the catalog (`options`), in the form's order: what
    the source widgets can be filled with when a recorded launch is made again."""
    offered = set(options)
    return [sid for sid in form.source_ids if sid in offered]


@dataclass(frozen=True)
class Opened:
    """Which launch this view of the page is about."""

    intent: str
    foreign_link: bool = False  # the URL's intent was not made by the dashboard: a new one
    started_over: bool = False  # a deliberate new launch: the URL's `patient_id` is stale


@dataclass(frozen=True)
class Notices:
    """What the launch's view says once about this browser's own Create."""

    problem: BaseException | None = None  # the create failed here (shown with its request id)
    already_made: bool = False  # Create found the intent claimed: nothing new was created


@dataclass
class LaunchFlow:
    """One browser session on the Launch page. `intent` is the launch it shows, `form` what a
    new form for it starts from; the rest is what happened to that intent in this session."""

    intent: str | None = None
    form: LaunchForm = field(default_factory=blank_form)
    pressed: bool = False  # Create was pressed and is not handled yet
    tried: bool = False  # Create was pressed on this form: its errors are shown
    problem: BaseException | None = None
    next_launch: tuple[str, LaunchForm] | None = None  # set by `start_over`, used by `open`

    def open(self, url_intent: str | None, url_patient_id: str = "") -> Opened:
        """The launch of this run: the one `start_over` minted, else the URL's intent, else a
        new one (minted when the URL has none, or one the dashboard cannot have made)."""
        if self.next_launch is not None:
            intent, form = self.next_launch
            self._enter(intent, form)
            return Opened(intent, started_over=True)
        if is_intent_id(url_intent):
            if url_intent != self.intent:  # a first view, or a reload: a fresh start
                self._enter(url_intent, blank_form(url_patient_id))
            return Opened(url_intent)
        intent = new_intent_id()
        self._enter(intent, blank_form(url_patient_id))
        return Opened(intent, foreign_link=bool(url_intent))

    def press(self, intent: str) -> None:
        """Create was clicked on the form of `intent` (the button's callback)."""
        if intent == self.intent:
            self.pressed = True

    def take_press(self) -> bool:
        """On the form: whether Create was pressed since the last run; it marks the form tried."""
        if not self.pressed:
            return False
        self.pressed = False
        self.tried = True
        return True

    def created(self, outcome: LaunchOutcome) -> None:
        """The create call answered; when another run had claimed the intent first, the view
        says nothing new was created."""
        self.tried = False
        self.pressed = not outcome.created_now

    def failed(self, problem: BaseException) -> None:
        """The create call failed (recorded in the ledger, never retried): shown once."""
        self.tried = False
        self.problem = problem

    def notices(self) -> Notices:
        """On the launch's view: what to say once about this session's Create (then forgotten).
        A press still pending here met an intent already claimed (by another tab, or before a
        reload)."""
        said = Notices(self.problem, self.pressed)
        self.problem, self.pressed = None, False
        return said

    def start_over(self, record: LaunchRecord | None) -> None:
        """A new launch (a new intent): with `record`, its form again (a deliberate retry; the
        name and email were never kept), else a blank form."""
        form = form_of(record) if record is not None else blank_form()
        self.next_launch = (new_intent_id(), form)

    def _enter(self, intent: str, form: LaunchForm) -> None:
        self.intent, self.form, self.next_launch = intent, form, None
        self.pressed = self.tried = False
        self.problem = None
