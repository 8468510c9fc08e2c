"""OAuth scopes as the consent step words them for a patient.

A patient reads what the app will be able to do, not `launch/patient openid fhirUser …`.
Scopes that mean the same thing to a patient share one line; a scope this table does not know
is still listed (never hidden), named as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

_IDENTITY = (
    "Confirm who you are",
    "Your name and which patient record at this hospital is yours.",
)
_RECORDS = (
    "Read your health record",
    "Conditions, medicines, allergies, test results and visits. Read only: nothing is changed.",
)
_UPDATES = (
    "Keep your records up to date",
    "New results and visits keep arriving after you close this window, until you disconnect.",
)

SCOPE_WORDS: dict[str, tuple[str, str]] = {
    "openid": _IDENTITY,
    "fhirUser": _IDENTITY,
    "profile": _IDENTITY,
    "launch/patient": _IDENTITY,
    "offline_access": _UPDATES,
    "online_access": _UPDATES,
}


def _scope_lines(scope: str) -> tuple[str, str]:
    known = SCOPE_WORDS.get(scope)
    if known is not None:
        return known
    if scope.startswith("patient/") and (scope.endswith(".read") or scope.endswith(".rs")):
        return _RECORDS
    return ("Other access", f"The hospital names it “{scope}”.")


def scopes_in_words(scopes: Iterable[str]) -> list[tuple[str, str]]:
    """(title, detail) lines for `scopes`, each line once, records first, identity next."""
    lines: list[tuple[str, str]] = []
    for scope in scopes:
        line = _scope_lines(scope)
        if line not in lines:
            lines.append(line)
    order = {_RECORDS: 0, _IDENTITY: 1, _UPDATES: 2}
    return sorted(lines, key=lambda line: order.get(line, 3))
