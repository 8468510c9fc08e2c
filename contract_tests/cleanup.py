"""The run's last step: delete every patient and webhook endpoint it created, and say what
could not be deleted. Only ids carrying the run prefix are touched (plus webhook ids the run
itself received), so a shared sandbox workspace keeps everyone else's data."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from contract_tests.run import RunState

MAX_PAGES = 100


def run_patients(client: httpx.Client, state: RunState) -> set[str]:
    """Prefixed patient ids present on the target (walking the list), plus those recorded."""
    found = {pid for pid in state.created_patients if pid.startswith(state.prefix)}
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, str | int] = {"limit": 100}
        if cursor:
            params["starting_after"] = cursor
        response = client.get("/patients", params=params)
        if response.status_code != 200:
            state.cleanup_problems.append(
                f"listing patients answered HTTP {response.status_code} "
                f"(request id {response.headers.get('x-request-id')}); only recorded ids deleted"
            )
            break
        page = response.json()
        found |= {p["id"] for p in page["data"] if str(p.get("id", "")).startswith(state.prefix)}
        cursor = page.get("next_cursor")
        if not page.get("has_more") or not cursor:
            break
    return found


def clean_up(client: httpx.Client, state: RunState) -> None:
    for unprefixed in sorted(
        pid for pid in state.created_patients if not pid.startswith(state.prefix)
    ):
        state.cleanup_problems.append(
            f"patient {unprefixed!r} was created without the run prefix; not deleted"
        )
    targets = [("patients", pid) for pid in sorted(run_patients(client, state))]
    targets += [("webhooks", wid) for wid in sorted(state.created_webhooks)]
    for collection, identifier in targets:
        try:
            response = client.delete(f"/{collection}/{quote(identifier, safe='')}")
        except httpx.HTTPError as exc:
            state.cleanup_problems.append(f"{collection} {identifier!r}: {type(exc).__name__}")
            continue
        if response.status_code == 200:
            state.cleaned += 1
        elif response.status_code != 404:  # 404: a test already deleted it
            state.cleanup_problems.append(
                f"{collection} {identifier!r}: HTTP {response.status_code} "
                f"(request id {response.headers.get('x-request-id')})"
            )
