"""HTML for the sandbox's hosted patient page: plain forms, one stylesheet, every text escaped.

No JavaScript: each step is a server-rendered page whose buttons POST a form (303 to the next
step) or follow a link. The only outside content is the catalog's logos, and each page's
Content-Security-Policy allows exactly the image origins that page shows (`Document`). The
page speaks to a patient: the app's name, scopes in plain words, failures from the shared
wording table. Test mode (the sandbox's default) adds a badge, the personas as chips on the
sign-in step, EHR vendor names and test servers; without it the page is what a patient of a
live organisation would see. Only `pages.py` renders these pages.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit

from medblocks.sandbox.hosted.scope_words import scopes_in_words
from medblocks.spec.failure_codes import failure_wording

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:#eef2f6;color:#1b2430}
header{background:#12355b;color:#fff;padding:.75rem 1rem;display:flex;align-items:center;
justify-content:space-between;gap:.75rem}
header .app{font-weight:700;font-size:1.05rem;overflow-wrap:anywhere}
.test-badge{background:#ffd666;color:#4d3800;border-radius:999px;padding:.1rem .65rem;
font-size:.75rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em;white-space:nowrap}
main{max-width:34rem;margin:1.5rem auto;background:#fff;border-radius:12px;padding:1.5rem;
box-shadow:0 1px 3px rgba(16,24,40,.12)}
@media (max-width:36rem){main{margin:0;border-radius:0;box-shadow:none;padding:1.25rem 1rem}}
h1{font-size:1.4rem;line-height:1.25;margin:0 0 .5rem}
h2{font-size:1rem;margin:1.5rem 0 .5rem}
p{margin:.5rem 0}
.lead{color:#3f4d5c}
.muted{color:#5b6b7b;font-size:.875rem}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.875em;overflow-wrap:anywhere}
label{display:block;font-weight:600;margin:.9rem 0 .3rem}
input[type=text],input[type=password],input[type=search]{width:100%;min-height:44px;
padding:.55rem .75rem;border:1px solid #9aa7b5;border-radius:8px;font:inherit;background:#fff}
input:focus,a:focus,button:focus{outline:3px solid #8fb3ff;outline-offset:1px}
.button,button{display:inline-flex;align-items:center;justify-content:center;min-height:44px;
padding:.55rem 1.1rem;border-radius:8px;border:1px solid transparent;font:inherit;
font-weight:600;text-decoration:none;cursor:pointer;text-align:center}
.primary{background:#1f5fd6;color:#fff}
.primary:hover{background:#1a4fb3}
.secondary{background:#fff;color:#1b2430;border-color:#9aa7b5}
.secondary:hover{background:#f3f6fa}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;margin-top:1.25rem}
.actions>*{flex:1 1 auto}
@media (max-width:36rem){.actions>*{flex-basis:100%}}
.actions form{display:flex}
.actions form>button{flex:1}
.search{display:flex;gap:.5rem}
.search input{flex:1;min-width:0}
ul.sources{list-style:none;margin:1rem 0 0;padding:0;border:1px solid #dde3ea;border-radius:10px;
overflow:hidden}
ul.sources li+li{border-top:1px solid #dde3ea}
a.source{display:flex;align-items:center;gap:.75rem;padding:.7rem .8rem;color:inherit;
text-decoration:none;min-height:60px}
a.source:hover{background:#f3f6fa}
.logo{width:40px;height:40px;border-radius:8px;flex:none;object-fit:contain}
.logo.large{width:48px;height:48px}
.fallback{display:inline-flex;align-items:center;justify-content:center;background:#e3e8ef;
color:#3b4a5c;font-weight:700;font-size:.85rem}
.source-text{flex:1;min-width:0}
.name{display:block;font-weight:600;overflow-wrap:anywhere}
.meta{display:block;font-size:.8rem;color:#5b6b7b}
.tag{display:inline-block;font-size:.75rem;font-weight:600;background:#e3f3e6;color:#1f6b2d;
border-radius:4px;padding:0 .4rem;margin-right:.3rem}
.tag.test{background:#fff1c2;color:#6b4e00}
.go{color:#1f5fd6;font-weight:600;font-size:.9rem;white-space:nowrap}
.portal{display:flex;align-items:center;gap:.8rem;margin-bottom:.5rem}
.portal h1{margin:0}
.eyebrow{margin:0;font-size:.8rem;color:#5b6b7b;text-transform:uppercase;letter-spacing:.05em}
.test-panel{border:1px dashed #d9a826;background:#fffaeb;border-radius:10px;padding:.8rem;
margin:1.5rem 0 0}
.test-panel p{margin:0 0 .5rem}
ul.chips{list-style:none;margin:0;padding:0;display:grid;gap:.5rem;
grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr))}
a.chip{display:flex;flex-direction:column;height:100%;padding:.35rem .7rem;
border:1px solid #d9b54a;background:#fff;border-radius:10px;color:inherit;text-decoration:none;
min-height:44px;overflow-wrap:break-word;min-width:0}
a.chip code{font-size:.8em}
a.chip:hover{background:#fff3cc}
a.chip[aria-current]{background:#12355b;border-color:#12355b;color:#fff}
a.chip small{font-size:.75rem;opacity:.8}
ul.scopes{list-style:none;margin:.75rem 0;padding:0}
ul.scopes li{padding:.6rem 0 .6rem 1.9rem;border-top:1px solid #e3e7eb;position:relative}
ul.scopes li::before{content:"\\2713";position:absolute;left:.3rem;top:.55rem;color:#1f6b2d;
font-weight:700}
ul.scopes strong{display:block}
ul.scopes span{color:#3f4d5c;font-size:.9rem}
.notice,.error,.ok{border-radius:8px;padding:.75rem .9rem;margin:.75rem 0}
.error{background:#fdecec;border:1px solid #f3b4b4}
.ok{background:#e8f5ea;border:1px solid #a9d8b2}
ul.attempts{list-style:none;margin:0;padding:0}
ul.attempts li{display:flex;justify-content:space-between;gap:.75rem;padding:.5rem 0;
border-top:1px solid #e3e7eb}
ul.attempts .state{white-space:nowrap;font-weight:600}
.state.connected{color:#1f6b2d}
.state.failed{color:#a12a2a}
.leave{margin-top:1.5rem;padding-top:1rem;border-top:1px solid #e3e7eb;display:flex;
flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem}
.leave p{margin:0;color:#5b6b7b}
.reference{overflow-wrap:anywhere}
footer{max-width:34rem;margin:0 auto;padding:1rem;text-align:center;color:#5b6b7b;
font-size:.8rem}
"""


@dataclass(frozen=True)
class Branding:
    """What every page shows around its step: whose app asks, and whether it is test mode."""

    app_name: str
    test_mode: bool


@dataclass(frozen=True)
class Document:
    """One rendered page and the image sources its Content-Security-Policy must allow."""

    text: str
    image_sources: frozenset[str] = field(default_factory=frozenset)

    @property
    def content_security_policy(self) -> str:
        images = " ".join(sorted(self.image_sources)) or "'none'"
        return (
            f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src {images}; "
            "base-uri 'none'; frame-ancestors 'none'"
        )


@dataclass(frozen=True)
class SourceRow:
    """One catalog source as a page shows it."""

    id: str
    name: str
    vendor: str | None
    logo_url: str | None
    recommended: bool = False


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
# The policy of a page that shows no image (refusals, redirects).
CONTENT_SECURITY_POLICY = Document("").content_security_policy

VENDOR_NAMES = {
    "epic": "Epic",
    "cerner": "Oracle Health (Cerner)",
    "athena": "athenahealth",
    "meditech": "MEDITECH",
    "eclinicalworks": "eClinicalWorks",
    "veradigm": "Veradigm",
    "nextgen": "NextGen",
}


def is_test_server(name: str) -> bool:
    """A catalog source that is a test server, not a place where patients have records."""
    lowered = name.lower()
    return "test server" in lowered or "sandbox" in lowered


def logo_source(url: str | None) -> str | None:
    """The CSP source that lets a page show the logo at `url`; None when it cannot be shown.

    A `data:image/…` logo needs `data:`; an http(s) logo its origin. Anything else (another
    scheme, a data URI that is not an image) is not shown, and the initials are used instead.
    """
    if not url:
        return None
    if url.startswith("data:image/"):
        return "data:"
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname and not parts.username:
        return f"{parts.scheme}://{parts.netloc}"
    return None


class _Images:
    """Collects the image sources a page uses while it is written."""

    def __init__(self) -> None:
        self.sources: set[str] = set()

    def logo(self, source: SourceRow, *, large: bool = False) -> str:
        size = " large" if large else ""
        allowed = logo_source(source.logo_url)
        if allowed is None or source.logo_url is None:
            initials = "".join(word[0] for word in source.name.split()[:2]).upper()
            return f'<span class="logo fallback{size}" aria-hidden="true">{escape(initials)}</span>'
        self.sources.add(allowed)
        return f'<img class="logo{size}" src="{escape(source.logo_url)}" alt="">'


def page(title: str, body: str, branding: Branding, images: Iterable[str] = ()) -> Document:
    """A whole HTML document around `body` (already escaped by the caller's helpers)."""
    badge = '<span class="test-badge" id="test-mode">Test mode</span>' if branding.test_mode else ""
    note = (
        "Medblocks sandbox: simulated patient portals and synthetic records; nothing here is real."
        if branding.test_mode
        else f"Secured by Medblocks. {branding.app_name} sees only what you choose to share."
    )
    text = (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {escape(branding.app_name)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f'<header><span class="app" id="app-name">{escape(branding.app_name)}</span>{badge}'
        "</header>"
        f"<main>{body}</main>"
        f'<footer id="footer">{escape(note)}</footer>'
        "</body></html>"
    )
    return Document(text, frozenset(images))


def _button_form(
    action: str,
    label: str,
    *,
    fields: dict[str, str] | None = None,
    style: str = "primary",
    name: str | None = None,
) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
        for key, value in (fields or {}).items()
    )
    named = f' name="{escape(name)}"' if name else ""
    return (
        f'<form method="post" action="{escape(action)}">{hidden}'
        f'<button type="submit" class="{style}"{named}>{escape(label)}</button></form>'
    )


def _link(href: str, label: str, *, element_id: str, style: str) -> str:
    return f'<a class="button {style}" id="{element_id}" href="{escape(href)}">{escape(label)}</a>'


def _attempts_list(attempts: Sequence[AttemptRow]) -> str:
    if not attempts:
        return ""
    items = []
    for attempt in attempts:
        if attempt.status == "active":
            state = '<span class="state connected">✓ Connected</span>'
        else:
            state = '<span class="state failed">Not connected</span>'
        items.append(f"<li><span>{escape(attempt.source_name)}</span>{state}</li>")
    return f'<h2>In this session</h2><ul class="attempts" id="attempts">{"".join(items)}</ul>'


def _source_meta(source: SourceRow, branding: Branding) -> str:
    parts = []
    if source.recommended:
        parts.append('<span class="tag">Recommended</span>')
    if branding.test_mode:
        if is_test_server(source.name):
            parts.append('<span class="tag test">Test server</span>')
        elif source.vendor:
            vendor = VENDOR_NAMES.get(source.vendor, source.vendor)
            parts.append(f'<span class="vendor">{escape(vendor)} portal</span>')
    return f'<span class="meta">{"".join(parts)}</span>' if parts else ""


def picker(
    base: str,
    branding: Branding,
    *,
    query: str,
    sources: Iterable[SourceRow],
    attempts: Sequence[AttemptRow],
) -> Document:
    """Step 1 (picker mode): search the catalog, recommended sources first."""
    images = _Images()
    rows = []
    for source in sources:
        rows.append(
            f'<li data-source-id="{escape(source.id)}">'
            f'<a class="source" href="{escape(base)}/sources/{escape(source.id)}">'
            f'{images.logo(source)}<span class="source-text"><span class="name">'
            f"{escape(source.name)}</span>{_source_meta(source, branding)}</span>"
            '<span class="go">Connect ›</span></a></li>'
        )
    listing = (
        f'<ul class="sources" id="sources">{"".join(rows)}</ul>'
        if rows
        else (
            f'<p class="notice" id="no-results">No hospital or clinic matches '
            f"“{escape(query)}”. Try part of its name, or its town.</p>"
        )
    )
    if attempts:
        leave = "<p>Connected everything you need?</p>" + _link(
            f"{base}/done", "Finish", element_id="finish", style="primary"
        )
    else:
        leave = "<p>Can't find your provider?</p>" + _link(
            f"{base}/done", "Finish without connecting", element_id="finish", style="secondary"
        )
    app = escape(branding.app_name)
    body = (
        "<h1>Connect your health records</h1>"
        f'<p class="lead">{app} would like to read your records from your hospital or clinic. '
        "Pick the one whose patient portal you use: you sign in there and choose what to "
        "share.</p>"
        f'<form method="get" action="{escape(base)}" role="search">'
        '<label for="q">Search hospitals and clinics</label>'
        f'<div class="search"><input type="search" id="q" name="q" value="{escape(query)}">'
        '<button type="submit" class="secondary">Search</button></div></form>'
        f'{listing}{_attempts_list(attempts)}<div class="leave">{leave}</div>'
    )
    return page("Connect your health records", body, branding, images.sources)


def _portal_heading(
    images: _Images, source: SourceRow, eyebrow: str, headline: str, *, heading_id: str = ""
) -> str:
    named = f' id="{heading_id}"' if heading_id else ""
    return (
        f'<div class="portal">{images.logo(source, large=True)}<div>'
        f'<p class="eyebrow">{escape(eyebrow)}</p><h1{named}>{escape(headline)}</h1></div></div>'
    )


def _personas_panel(
    base: str, source: SourceRow, personas: Sequence[PersonaRow], chosen: str
) -> str:
    chips = []
    for persona in personas:
        current = ' aria-current="true"' if persona.username == chosen else ""
        href = f"{base}/sources/{source.id}?username={persona.username}"
        chips.append(
            f'<li><a class="chip" href="{escape(href)}" data-username="{escape(persona.username)}"'
            f"{current}><code>{escape(persona.username)}</code>"
            # A long failure code may break after an underscore, never mid-word.
            f"<small>{escape(persona.outcome).replace('_', '_<wbr>')}</small></a></li>"
        )
    return (
        '<section class="test-panel" id="test-panel" aria-label="Test patients">'
        '<p><span class="test-badge">Test mode</span> This portal is simulated. Pick a test '
        "patient to fill in the username; every test patient's password is "
        "<code>pass_good</code>.</p>"
        f'<ul class="chips" id="personas">{"".join(chips)}</ul></section>'
    )


def sign_in(
    base: str,
    branding: Branding,
    *,
    source: SourceRow,
    can_choose_another: bool,
    personas: Sequence[PersonaRow],
    error: str | None,
    username: str,
    request_id: str,
) -> Document:
    """Step 2: the simulated portal sign-in; in test mode, the personas as chips."""
    images = _Images()
    problem = ""
    if error:
        problem = f'<p class="error" id="sign-in-error">{escape(error)}</p>{_reference(request_id)}'
    panel = _personas_panel(base, source, personas, username) if branding.test_mode else ""
    focus_password = " autofocus" if username else ""
    back = (
        '<div class="leave"><p>Wrong hospital?</p>'
        + _link(base, "Choose another hospital", element_id="choose-another", style="secondary")
        + "</div>"
        if can_choose_another
        else ""
    )
    body = (
        _portal_heading(images, source, "Patient portal", f"Sign in to {source.name}")
        + f'<p class="lead">Use the username and password of your {escape(source.name)} '
        f"patient portal. {escape(branding.app_name)} never sees your password.</p>"
        f"{problem}"
        f'<form method="post" action="{escape(base)}/sources/{escape(source.id)}/sign-in">'
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        'autocomplete="username" autocapitalize="none" spellcheck="false">'
        '<label for="password">Password</label>'
        f'<input type="password" id="password" name="password" autocomplete="current-password"'
        f"{focus_password}>"
        '<div class="actions"><button type="submit" class="primary" id="sign-in">Sign in'
        "</button></div></form>"
        f"{panel}{back}"
    )
    return page(f"Sign in to {source.name}", body, branding, images.sources)


def consent(
    base: str, branding: Branding, *, source: SourceRow, persona: str, scopes: Sequence[str]
) -> Document:
    """Step 3: the portal asks the patient to approve or deny sharing."""
    images = _Images()
    action = f"{base}/sources/{source.id}/consent"
    app = escape(branding.app_name)
    items = "".join(
        f"<li><strong>{escape(title)}</strong><span>{escape(detail)}</span></li>"
        for title, detail in scopes_in_words(scopes)
    )
    body = (
        _portal_heading(
            images, source, source.name, f"Share your records with {branding.app_name}?"
        )
        + f'<p class="lead">{app} is asking {escape(source.name)} for permission to:</p>'
        f'<ul class="scopes" id="scopes">{items}</ul>'
        '<div class="actions">'
        + _button_form(
            action, "Approve", fields={"persona": persona, "decision": "approve"}, name="approve"
        )
        + _button_form(
            action,
            "Deny",
            fields={"persona": persona, "decision": "deny"},
            style="secondary",
            name="deny",
        )
        + "</div>"
        f'<p class="muted">Signed in to {escape(source.name)} as <code>{escape(persona)}</code>. '
        f"You can stop sharing at any time by disconnecting {escape(source.name)} in {app}.</p>"
    )
    return page(f"Share your records with {branding.app_name}?", body, branding, images.sources)


def attempt_result(
    base: str,
    branding: Branding,
    *,
    source: SourceRow,
    attempt: AttemptRow,
    request_id: str,
) -> Document:
    """Step 4 (picker mode): the outcome of one source, then connect more or finish."""
    images = _Images()
    app = escape(branding.app_name)
    if attempt.status == "active":
        headline = f"Connected to {source.name}"
        detail = (
            f'<p class="ok" id="outcome">Your records from {escape(source.name)} will be copied '
            f"to {app} in the background. You can connect another hospital or finish.</p>"
        )
        actions = _link(f"{base}/done", "Finish", element_id="finish", style="primary") + _link(
            base, "Connect another hospital", element_id="connect-more", style="secondary"
        )
    else:
        headline = f"Could not connect to {source.name}"
        wording = failure_wording(attempt.failure_code or attempt.status)
        detail = (
            f'<div class="error" id="failure"><p id="what-happened">'
            f"{escape(wording.what_happened)}</p>"
            f'<p id="next-step"><strong>What to do next:</strong> {escape(wording.next_step)}</p>'
            f"</div>{_reference(request_id, code=wording.code)}"
        )
        actions = (
            _link(
                f"{base}/sources/{source.id}", "Try again", element_id="try-again", style="primary"
            )
            + _link(base, "Choose another hospital", element_id="connect-more", style="secondary")
            + _link(f"{base}/done", "Finish", element_id="finish", style="secondary")
        )
    body = (
        _portal_heading(images, source, source.name, headline, heading_id="result")
        + detail
        + f'<div class="actions">{actions}</div>'
    )
    return page(headline, body, branding, images.sources)


def completion(
    base: str, branding: Branding, *, button_label: str, attempts: Sequence[AttemptRow]
) -> Document:
    """Step 5 (picker mode): the completion screen whose Done button returns to the app."""
    connected = any(a.status == "active" for a in attempts)
    app = escape(branding.app_name)
    if connected:
        headline = "You're all set"
        lead = f"{app} can now read the records you shared, until you disconnect them."
    else:
        headline = "No hospital connected"
        lead = f"Nothing was shared with {app}. You can connect later from a new link."
    body = (
        f'<h1 id="completion">{headline}</h1><p class="lead">{lead}</p>'
        f"{_attempts_list(attempts)}"
        '<div class="actions">' + _button_form(f"{base}/done", button_label, name="done") + "</div>"
    )
    return page(headline, body, branding)


def _reference(request_id: str, *, code: str | None = None) -> str:
    coded = f"<code>{escape(code)}</code> · " if code else ""
    return (
        f'<p class="muted reference">Reference for support: {coded}'
        f'<code id="request-id">{escape(request_id)}</code></p>'
    )


def message(
    title: str, text: str, branding: Branding, *, element_id: str, request_id: str
) -> Document:
    """A terminal page: expired, unknown or finished sessions, and refused steps."""
    body = (
        f'<h1 id="{escape(element_id)}">{escape(title)}</h1><p class="lead">{escape(text)}</p>'
        f"{_reference(request_id)}"
    )
    return page(title, body, branding)
