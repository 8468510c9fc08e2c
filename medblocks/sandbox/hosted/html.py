"""HTML for the sandbox's hosted patient page: plain forms, inline CSS, every text escaped.

No JavaScript and no external asset: each step is a server-rendered page whose buttons POST a
form and get a 303 redirect to the next step. Only `pages.py` renders these pages.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f6f8;color:#1d2733;
margin:0}
header{background:#12355b;color:#fff;padding:.8rem 1.5rem;font-weight:600}
header small{font-weight:400;opacity:.8;margin-left:.6rem}
main{max-width:40rem;margin:1.5rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.35rem;margin-top:0}
h2{font-size:1.05rem;margin-bottom:.4rem}
ul.sources{list-style:none;padding:0;margin:0}
ul.sources li{display:flex;justify-content:space-between;align-items:center;
border-bottom:1px solid #e3e7eb;padding:.5rem 0}
.vendor{color:#5b6b7b;font-size:.85rem;margin-left:.4rem}
.badge{font-size:.75rem;background:#e1efe3;color:#1f6b2d;border-radius:4px;padding:.1rem .4rem;
margin-left:.4rem}
.notice{background:#fff7e0;border:1px solid #f0d98a;border-radius:6px;padding:.6rem .8rem}
.error{background:#fdecec;border:1px solid #f3b4b4;border-radius:6px;padding:.6rem .8rem}
label{display:block;margin:.6rem 0 .2rem}
input[type=text],input[type=password],input[type=search]{width:100%;box-sizing:border-box;
padding:.45rem;border:1px solid #b8c2cc;border-radius:4px}
button,a.button{background:#12355b;color:#fff;border:0;border-radius:4px;padding:.5rem 1rem;
font-size:.95rem;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#e3e7eb;color:#1d2733}
form.inline{display:inline}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #e3e7eb;padding:.3rem;text-align:left}
footer{text-align:center;color:#5b6b7b;font-size:.8rem;margin-bottom:1.5rem}
"""


@dataclass(frozen=True)
class SourceRow:
    """One catalog source as the picker lists it."""

    id: str
    name: str
    vendor: str | None
    recommended: bool


@dataclass(frozen=True)
class AttemptRow:
    """One connection attempt of this session, as the picker and completion screen list it."""

    source_name: str
    status: str
    failure_code: str | None


@dataclass(frozen=True)
class PersonaRow:
    """One documented sandbox sign-in persona."""

    username: str
    outcome: str


# The pages' only inline content is that one stylesheet, allowed by its hash; no script runs.
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; base-uri 'none'; frame-ancestors 'none'"
)


def page(title: str, body: str, *, status_note: str = "Sandbox") -> str:
    """A whole HTML document around `body` (already escaped by the caller's helpers)."""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header>Medblocks<small>{escape(status_note)}</small></header>"
        f"<main>{body}</main>"
        "<footer>Local Medblocks sandbox: simulated portals, synthetic data.</footer>"
        "</body></html>"
    )


def _button_form(
    action: str,
    label: str,
    *,
    fields: dict[str, str] | None = None,
    secondary: bool = False,
    name: str | None = None,
) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
        for key, value in (fields or {}).items()
    )
    css = ' class="secondary"' if secondary else ""
    named = f' name="{escape(name)}"' if name else ""
    return (
        f'<form class="inline" method="post" action="{escape(action)}">{hidden}'
        f'<button type="submit"{css}{named}>{escape(label)}</button></form>'
    )


def _attempts_list(attempts: Sequence[AttemptRow]) -> str:
    if not attempts:
        return ""
    items = "".join(
        f"<li><span>{escape(a.source_name)}</span><span>{escape(_attempt_text(a))}</span></li>"
        for a in attempts
    )
    return f'<h2>In this session</h2><ul class="sources" id="attempts">{items}</ul>'


def _attempt_text(attempt: AttemptRow) -> str:
    if attempt.status == "active":
        return "Connected"
    if attempt.failure_code:
        return f"Not connected ({attempt.failure_code})"
    return f"Not connected ({attempt.status})"


def picker(
    base: str, *, query: str, sources: Iterable[SourceRow], attempts: Sequence[AttemptRow]
) -> str:
    """Step 1 (picker mode): search the catalog, recommended sources first."""
    rows = []
    for source in sources:
        badge = '<span class="badge">Recommended</span>' if source.recommended else ""
        vendor = f'<span class="vendor">{escape(source.vendor)}</span>' if source.vendor else ""
        link = f'<a class="button" href="{escape(base)}/sources/{escape(source.id)}">Connect</a>'
        rows.append(
            f'<li data-source-id="{escape(source.id)}"><span>'
            f'<span class="name">{escape(source.name)}</span>{vendor}{badge}</span>{link}</li>'
        )
    listing = (
        f'<ul class="sources" id="sources">{"".join(rows)}</ul>'
        if rows
        else f'<p class="notice" id="no-results">No health system matches “{escape(query)}”.</p>'
    )
    question = "Connected everything you need?" if attempts else "Can't find your provider?"
    label = "Finish" if attempts else "Finish without connecting"
    finish = (
        f'<p>{question} <a class="button" id="finish" href="{escape(base)}/done">{label}</a></p>'
    )
    body = (
        "<h1>Connect your health records</h1>"
        "<p>Find the hospital or clinic whose patient portal you use.</p>"
        f'<form method="get" action="{escape(base)}" role="search">'
        '<label for="q">Search health systems</label>'
        f'<input type="search" id="q" name="q" value="{escape(query)}">'
        ' <p><button type="submit">Search</button></p></form>'
        f"{listing}{_attempts_list(attempts)}{finish}"
    )
    return page("Connect your health records", body)


def sign_in(
    base: str,
    *,
    source_name: str,
    source_id: str,
    personas: Sequence[PersonaRow],
    error: str | None,
    username: str,
    request_id: str,
) -> str:
    """Step 2: the simulated portal sign-in, with the documented sandbox personas."""
    problem = ""
    if error:
        problem = f'<p class="error" id="sign-in-error">{escape(error)}</p>{_reference(request_id)}'

    persona_rows = "".join(
        f"<tr><td><code>{escape(p.username)}</code></td><td>{escape(p.outcome)}</td></tr>"
        for p in personas
    )
    body = (
        f"<h1>Sign in to {escape(source_name)}</h1>"
        '<p class="notice">Simulated patient portal. Use a sandbox persona below with the '
        "password <code>pass_good</code>; no real account exists here.</p>"
        f"{problem}"
        f'<form method="post" action="{escape(base)}/sources/{escape(source_id)}/sign-in">'
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        'autocomplete="off">'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" autocomplete="off">'
        '<p><button type="submit" id="sign-in">Sign in</button></p></form>'
        "<h2>Sandbox personas</h2>"
        f'<table id="personas"><tr><th>username</th><th>what Approve leads to</th></tr>'
        f"{persona_rows}</table>"
    )
    return page(f"Sign in to {source_name}", body, status_note="Sandbox portal")


def consent(
    base: str, *, source_name: str, source_id: str, persona: str, scopes: Sequence[str]
) -> str:
    """Step 3: the portal asks the patient to approve or deny sharing."""
    action = f"{base}/sources/{source_id}/consent"
    scope_items = "".join(f"<li><code>{escape(scope)}</code></li>" for scope in scopes)
    body = (
        f"<h1>Share your records from {escape(source_name)}?</h1>"
        f"<p>Signed in as <code>{escape(persona)}</code>. The app asks for read access to:</p>"
        f'<ul id="scopes">{scope_items}</ul><p>'
        + _button_form(
            action, "Approve", fields={"persona": persona, "decision": "approve"}, name="approve"
        )
        + " "
        + _button_form(
            action,
            "Deny",
            fields={"persona": persona, "decision": "deny"},
            secondary=True,
            name="deny",
        )
        + "</p>"
    )
    return page(f"Share your records from {source_name}?", body, status_note="Sandbox portal")


def attempt_result(
    base: str, *, source_name: str, attempt: AttemptRow, description: str | None, request_id: str
) -> str:
    """Step 4 (picker mode): the outcome of one source, then connect more or finish."""
    if attempt.status == "active":
        headline = f"Connected to {source_name}"
        detail = "<p>Your records will be copied in the background.</p>"
    else:
        headline = f"Could not connect to {source_name}"
        code = escape(attempt.failure_code or attempt.status)
        text = escape(description or "")
        detail = f'<p class="error" id="failure">{text} (<code>{code}</code>)</p>'
        detail += _reference(request_id)
    body = (
        f'<h1 id="result">{escape(headline)}</h1>{detail}'
        f'<p><a class="button" id="connect-more" href="{escape(base)}">Connect another source</a> '
        f'<a class="button" id="finish" href="{escape(base)}/done">Finish</a></p>'
    )
    return page(headline, body)


def completion(base: str, *, button_label: str, attempts: Sequence[AttemptRow]) -> str:
    """Step 5 (picker mode): the completion screen whose Done button returns to the app."""
    body = (
        "<h1>You're all set</h1>"
        f"{_attempts_list(attempts)}"
        "<p>" + _button_form(f"{base}/done", button_label, name="done") + "</p>"
    )
    return page("You're all set", body)


def _reference(request_id: str) -> str:
    return f'<p class="vendor">Reference: <code id="request-id">{escape(request_id)}</code></p>'


def message(title: str, text: str, *, element_id: str, request_id: str) -> str:
    """A terminal page: expired, unknown or finished sessions, and refused steps."""
    body = (
        f'<h1 id="{escape(element_id)}">{escape(title)}</h1><p>{escape(text)}</p>'
        f"{_reference(request_id)}"
    )
    return page(title, body)
