"""Who may do what: the role rules, `MEDBLOCKS_ROLES`, and the actor of a session."""

from __future__ import annotations

import pytest

from medblocks.config import ConfigError, load_roles, roles_from
from medblocks.dashboard.roles import LEAST_ROLE, LOCAL_USER, Actor, NotAllowed, actor_for, require

OPS_ACTIONS = (
    "reveal",
    "export-revealed",
    "launch",
    "session-link",
    "disconnect",
    "redeliver",
    "alert-silence",
)
ADMIN_ACTIONS = ("sandbox-lever", "contract-run")


def test_every_guarded_action_is_ruled() -> None:
    assert set(LEAST_ROLE) == set(OPS_ACTIONS) | set(ADMIN_ACTIONS)


@pytest.mark.parametrize("action", OPS_ACTIONS + ADMIN_ACTIONS)
def test_a_viewer_may_do_nothing_guarded(action: str) -> None:
    with pytest.raises(NotAllowed, match=r"role viewer.*needs (ops|admin)"):
        require(Actor("v@x.org", "viewer"), action)


def test_ops_reveals_and_writes_but_pulls_no_lever() -> None:
    ops = Actor("o@x.org", "ops")
    for action in OPS_ACTIONS:
        require(ops, action)
    for action in ADMIN_ACTIONS:
        assert not ops.may(action)


def test_admin_may_do_everything_and_everyone_may_view() -> None:
    for action in OPS_ACTIONS + ADMIN_ACTIONS:
        require(Actor("a@x.org", "admin"), action)
    assert Actor("v@x.org", "viewer").may("export")  # a masked export


def test_the_actor_of_a_session() -> None:
    roles = {"o@x.org": "ops"}
    assert actor_for(None, auth_configured=False, roles=roles) == Actor(LOCAL_USER, "admin")
    assert actor_for("O@X.org", auth_configured=True, roles=roles) == Actor("O@X.org", "ops")
    assert actor_for("other@x.org", auth_configured=True, roles=roles).role == "viewer"
    assert actor_for(None, auth_configured=True, roles=roles).role == "viewer"


def test_medblocks_roles() -> None:
    assert roles_from(" A@x.org = Ops , b@x.org=admin,") == {"a@x.org": "ops", "b@x.org": "admin"}
    assert roles_from(None) == {}
    assert load_roles({"MEDBLOCKS_ROLES": "c@x.org=viewer"}, dotenv_path=None) == {
        "c@x.org": "viewer"
    }
    for bad in ("a@x.org", "a@x.org=root", "nobody=ops"):
        with pytest.raises(ConfigError, match="MEDBLOCKS_ROLES"):
            roles_from(bad)
