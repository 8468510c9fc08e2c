"""Dashboard pages in a real browser: each page's render time, cold and warm.

`streamlit run dashboard.py` with nothing configured (the embedded sandbox, its demo data, the
mirror in a temporary SQLite file: never the developer's `.dashboard/`) on a free port, driven
by Debian's headless Chromium through Playwright. Every page of the menu is opened by its deep
link (`/overview`, `/patients`, ...), each visit in a new tab (a new Streamlit session), in
menu order:

* cold - the first visit of that page since the server started, from a fresh browser context
         (nothing in its cache): the page's module runs for the first time and its
         `st.cache_data` reads are empty. The very first visit (Overview) also pays
         what the process does once: start the embedded sandbox and the mirror's first sync.
         One server for all pages (not one per page) so that each page's own cold cost shows,
         instead of the same process start-up ten times over;
* warm - later visits, same order, from a browser that has loaded the dashboard before
         (one context, its HTTP cache filled by an untimed visit): what anyone opening a shared
         link meets afterwards. `--warm-passes` passes (default 3) over every page, one after
         the other, so that a burst of other work on the shared machine falls on one sample
         of each page rather than on every sample of one; each page's figure is the median of
         its passes, and the target applies to it;
* switch - inside one open session, a click on the page's sidebar link until it is rendered:
         how the pages feel once the app is open (no target; shown for where the time goes).

For the two deep-link passes "boot" is the browser's part: from the navigation's start until
the app's first script run started (Streamlit's frontend loaded and its websocket open).

Rendered, precisely: the time from the navigation's start (`performance.now()` of the new
document; for a switch, the click) to the last moment at which all of these became true
together and then stayed true for 0.5 s: the app's script is idle (`[data-testid="stApp"]` has
`data-test-script-state="notRunning"`, Streamlit 1.67's run state, "initial" before the first
run), Streamlit's running indicator (`stStatusWidget`) is gone, and the page's title (its `h1`)
is on screen. A MutationObserver installed before the page loads records that moment in the
page, so polling from Python adds nothing to the figure. Charts (Vega) may finish drawing a
few frames later; "Page not found" or an exception box on a page counts as a miss.

Targets: warm <= 1.5 s for every page. The last line is `targets: met` or
`targets: missed: <which>`. Bounded: the server must answer within 60 s, each visit gives up
after 60 s, no visit starts after `--budget` seconds (default 600), and the server and browser
are stopped on every exit.
Run: `python bench/dashboard_pages.py` (about three minutes on the 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from dotenv import dotenv_values
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.streamlit_app import streamlit_server  # noqa: E402

PAGES = [  # deep link, its name in the menu, the page's title (its h1), in menu order
    ("overview", "Overview", "Overview"),
    ("patients", "Patients", "Patients"),
    ("health", "Connection health", "Connection health"),
    ("sessions", "Sessions", "Sessions"),
    ("hospitals", "Hospital status", "Hospital status"),
    ("sources", "Sources", "Sources"),
    ("alerts", "Alerts", "Alerts"),
    ("launch", "Launch", "Launch a session"),
    ("connected", "Return page", "Return page"),
    ("webhooks", "Webhooks", "Webhooks"),
    ("contract", "Contract & drift", "Contract & drift"),
    ("sandbox", "Sandbox", "Sandbox"),
]
WARM_TARGET_S = 1.5
SETTLE_MS = 500  # "rendered" must hold this long, so a rerun right after a run is not missed
VISIT_TIMEOUT_S = 60.0
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}

# Installed before the page loads; `__TITLE__` is replaced by the expected h1 (JSON), which
# `window.__title` changes for a switch inside the app.
WATCH_RENDER = """
window.__render = {since: null, state: null, firstRun: null};
window.__title = __TITLE__;
function rendered() {
  const app = document.querySelector('[data-testid="stApp"]');
  const state = app ? app.getAttribute('data-test-script-state') : null;
  window.__render.state = state;
  if (state === 'running' && window.__render.firstRun === null) {
    window.__render.firstRun = performance.now();
  }
  if (state !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  return [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === window.__title);
}
new MutationObserver(() => {
  if (rendered()) {
    if (window.__render.since === null) window.__render.since = performance.now();
  } else {
    window.__render.since = null;
  }
}).observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
"""
SETTLED = f"""() => {{
  const r = window.__render;
  return r.since !== null && performance.now() - r.since >= {SETTLE_MS} ? r.since : null;
}}"""


@dataclass
class Visit:
    seconds: float | None  # None: never rendered within the visit's timeout
    boot: float | None = None  # until the script's first run started (the browser's part)
    problem: str = ""


def rendered(page: Page, began: float) -> Visit:
    """Wait until the page is rendered (see the docstring); seconds since `began`, a
    `performance.now()` reading in milliseconds."""
    deadline = time.monotonic() + VISIT_TIMEOUT_S
    since = None
    while since is None and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        since = page.evaluate(SETTLED)
    if since is None:
        state = page.evaluate("window.__render && window.__render.state")
        return Visit(None, problem=f"not rendered in {VISIT_TIMEOUT_S:.0f} s ({state})")
    problems = [
        what
        for what, count in (
            ("Page not found", page.get_by_text("Page not found").count()),
            ("an exception box", page.get_by_test_id("stException").count()),
        )
        if count
    ]
    return Visit((float(since) - began) / 1000, problem=", ".join(problems))


def visit(context: BrowserContext, base: str, path: str, title: str) -> Visit:
    """Open `base/path` in a new tab of `context` (a new Streamlit session)."""
    page = context.new_page()
    try:
        page.add_init_script(WATCH_RENDER.replace("__TITLE__", json.dumps(title)))
        page.goto(f"{base}/{path}", wait_until="commit", timeout=VISIT_TIMEOUT_S * 1000)
        found = rendered(page, 0.0)
        first_run = page.evaluate("window.__render.firstRun")
        found.boot = None if first_run is None else float(first_run) / 1000
        return found
    finally:
        page.close()


def fresh_visit(browser: Browser, base: str, path: str, title: str) -> Visit:
    """A visit from a browser that never saw the dashboard (empty cache)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        return visit(context, base, path, title)
    finally:
        context.close()


def switch(page: Page, menu: str, title: str) -> Visit:
    """Click `menu` in the sidebar of an open session: from the click until rendered."""
    began = page.evaluate(
        "t => { window.__title = t; window.__render.since = null; return performance.now(); }",
        title,
    )
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=menu, exact=True).click()
    return rendered(page, float(began))


def configured_by_dotenv() -> bool:
    """The dashboard reads `.env` in the checkout for anything the environment leaves unset."""
    values = dotenv_values(ROOT / ".env") if (ROOT / ".env").is_file() else {}
    return any(values.get(name) for name in ("MEDBLOCKS_API_KEY", "MEDBLOCKS_API_URL"))


def figure(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f}"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Run:
    """The visits so far, each printed as it ends; nothing starts once the budget is spent."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.give_up = time.monotonic() + budget
        self.visits: dict[tuple[str, str], Visit] = {}  # (pass, page path) -> visit

    def spent(self) -> bool:
        return time.monotonic() > self.give_up

    def measure(self, pass_: str, path: str, take: Callable[[], Visit]) -> None:
        if self.spent():
            found = Visit(None, problem=f"budget of {self.budget:.0f} s spent")
        else:
            found = take()
        self.visits[pass_, path] = found
        note = f"  ({found.problem})" if found.problem else ""
        print(f"  {pass_} /{path}: {figure(found.seconds)} s{note}", flush=True)

    def warm(self, path: str, passes: int) -> Visit:
        """A page's warm figure: the median of its passes (a pass that did not render, or found
        a problem, decides it)."""
        found = [self.visits[f"warm {n}", path] for n in range(1, passes + 1)]
        failed = [v for v in found if v.seconds is None or v.problem]
        if failed:
            return failed[0]
        return Visit(
            statistics.median(v.seconds for v in found if v.seconds is not None),
            boot=statistics.median(v.boot for v in found if v.boot is not None)
            if all(v.boot is not None for v in found)
            else None,
        )

    def report(self, passes: int) -> None:
        print(
            f"{'page':<12} {'cold s':>7} {'(boot)':>7} {'warm s':>7} {'(boot)':>7} {'switch s':>9}"
            "  warm passes"
        )
        missed: list[str] = []
        for path, _menu, _title in PAGES:
            cold, inside = self.visits["cold", path], self.visits["switch", path]
            warm = self.warm(path, passes)
            samples = " ".join(
                figure(self.visits[f"warm {n}", path].seconds) for n in range(1, passes + 1)
            )
            print(
                f"/{path:<11} {figure(cold.seconds):>7} {figure(cold.boot):>7} "
                f"{figure(warm.seconds):>7} {figure(warm.boot):>7} {figure(inside.seconds):>9}"
                f"  {samples}"
            )
            if warm.seconds is not None and warm.seconds > WARM_TARGET_S:
                missed.append(f"/{path} warm {warm.seconds:.2f} s > {WARM_TARGET_S} s")
            missed.extend(
                f"/{path} {pass_}: {found.problem}"
                for pass_, found in (("cold", cold), ("warm", warm), ("switch", inside))
                if found.problem
            )
        print("targets: met" if not missed else f"targets: missed: {'; '.join(missed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="give up after (seconds)")
    parser.add_argument(
        "--warm-passes", type=int, default=3, help="warm visits of each page (median reported)"
    )
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    if configured_by_dotenv():
        raise SystemExit(
            f"{ROOT / '.env'} configures a target; this bench measures the embedded sandbox "
            "with nothing configured: move .env aside for the run"
        )
    run = Run(args.budget)
    print(f"load average before: {load()}", flush=True)
    started = time.monotonic()
    with streamlit_server() as base, sync_playwright() as playwright:
        print(f"server up in {time.monotonic() - started:.2f} s", flush=True)
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for path, _menu, title in PAGES:
                run.measure("cold", path, partial(fresh_visit, browser, base, path, title))
            returning = browser.new_context(viewport=VIEWPORT)
            if not run.spent():  # fills its cache: a returning browser
                visit(returning, base, "sources", "Sources")
            for n in range(1, args.warm_passes + 1):
                for path, _menu, title in PAGES:
                    run.measure(f"warm {n}", path, partial(visit, returning, base, path, title))
            tab = returning.new_page()
            tab.add_init_script(WATCH_RENDER.replace("__TITLE__", json.dumps("Sources")))
            if not run.spent():
                tab.goto(f"{base}/sources")
                rendered(tab, 0.0)
            for path, menu, title in PAGES:
                run.measure("switch", path, partial(switch, tab, menu, title))
            returning.close()
        finally:
            browser.close()
    print(f"load average after: {load()}")
    print()
    run.report(args.warm_passes)


if __name__ == "__main__":
    main()
