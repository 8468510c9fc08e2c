"""Who may do what on the dashboard, and the person acting.

Three roles, each allowed what the one before it is, and more:

* viewer: the masked pages; no reveal, no write;
* ops: reveal names and e-mails, session links (and launches), disconnect, redeliver;
* admin: the sandbox's levers and contract runs as well (live writes still need
  `MEDBLOCKS_ALLOW_LIVE_WRITES`, which the target checks).

With `[auth]` a signed-in person's role comes from `MEDBLOCKS_ROLES` (`email=role` pairs); a
person it does not name is a viewer. Without `[auth]` the dashboard is one local user, admin
(it serves loopback only unless the network in front signs people in: `access.py`).

`require` is called by the functions that perform an action (`medblocks.dashboard.audit`), so a
refused role is refused however the action was asked for, not only by a hidden button.
"""

from __future__ import annotations

from dataclasses import dataclass

from medblocks.config import ROLES

LOCAL_USER = "local user"

LEAST_ROLE = {
    "reveal": "ops",
    "export-revealed": "ops",
    "launch": "ops",
    "session-link": "ops",
    "disconnect": "ops",
    "redeliver": "ops",
    "alert-silence": "ops",
    "sandbox-lever": "admin",
    "contract-run": "admin",
}
"""The least role for each guarded action (a masked view or a masked export needs none)."""


@dataclass(frozen=True)
class Actor:
    """The person acting: their e-mail (or `local user`) and role."""

    who: str
    role: str

    def may(self, action: str) -> bool:
        least = LEAST_ROLE.get(action)
        return least is None or ROLES.index(self.role) >= ROLES.index(least)


class NotAllowed(PermissionError):
    """The actor's role does not allow the action; the message says which role would."""


def require(actor: Actor, action: str) -> None:
    if not actor.may(action):
        raise NotAllowed(
            f"{actor.who} has the role {actor.role}, which may not {action.replace('-', ' ')} "
            f"(that needs {LEAST_ROLE[action]}); ask an admin to change MEDBLOCKS_ROLES."
        )


def actor_for(email: str | None, *, auth_configured: bool, roles: dict[str, str]) -> Actor:
    """The actor of a session: without `[auth]` the local user (admin); with it, the signed-in
    e-mail with its configured role, viewer when it has none (or no e-mail was given)."""
    if not auth_configured:
        return Actor(LOCAL_USER, "admin")
    if not email:
        return Actor("signed-in user without an e-mail", "viewer")
    return Actor(email, roles.get(email.lower(), "viewer"))
