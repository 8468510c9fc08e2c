"""One loopback rule (`medblocks.loopback`), judged the same by every part that asks: the
client's plain-http check, the sandbox's webhook URLs, the dashboard's target and browser
checks, and the mirror's spelling of a server (which also reads a trailing dot as the same
name).

Loopback is `localhost` in any case, 127.0.0.0/8 (127.0.0.2 included) and ::1; `localhost.`
(an absolute DNS name, resolved by whatever DNS answers) is not.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest

from medblocks.client.checks import checked_base_url
from medblocks.dashboard.access import listens_on_loopback
from medblocks.dashboard.target import Target, place_of
from medblocks.loopback import is_loopback_host
from medblocks.mirror.identity import canonical_server
from medblocks.sandbox import SandboxConfig, create_app
from medblocks.spec import pinned_version

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette suggests httpx2 for its test client
    from starlette.testclient import TestClient

KEY = "mb_sk_sbx_01LOOPBACKTEST00000000000000"
# (host as written in a URL, is it loopback?)
HOSTS = [
    ("127.0.0.1", True),
    ("127.0.0.2", True),
    ("127.255.255.254", True),
    ("[::1]", True),
    ("localhost", True),
    ("LOCALHOST", True),
    ("LocalHost", True),
    ("localhost.", False),
    ("localhost.example.com", False),
    ("128.0.0.1", False),
    ("10.0.0.1", False),
    ("[::2]", False),
    ("example.com", False),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[httpx.Client]:
    app = create_app(SandboxConfig(api_key=KEY))
    headers = {"Authorization": f"Bearer {KEY}", "Version": pinned_version()}
    with TestClient(app, base_url="http://sandbox.test", headers=headers) as client:
        yield client
    app.state.sandbox.store.close()


@pytest.mark.parametrize(("host", "loopback"), HOSTS, ids=[h for h, _ in HOSTS])
def test_every_part_judges_a_host_the_same(
    host: str, loopback: bool, sandbox: httpx.Client
) -> None:
    url = f"http://{host}:8787"
    assert is_loopback_host(host) is loopback
    assert is_loopback_host(host.strip("[]")) is loopback  # as `urlsplit(...).hostname` gives it

    try:  # the client (and configuration): plain http only to loopback
        checked_base_url(url)
        client_accepts = True
    except ValueError:
        client_accepts = False
    assert client_accepts is loopback

    answer = sandbox.post("/webhooks", json={"url": f"{url}/hook", "events": ["*"]})
    assert answer.status_code == (200 if loopback else 400), answer.text

    target = Target("sandbox", url, pinned_version(), True, KEY)
    assert (place_of(url) == "loopback") is loopback
    assert target.is_local_sandbox is loopback  # the Sandbox levers and the Launch personas
    assert listens_on_loopback(host) is loopback  # the dashboard served without a sign-in
    # the mirror's one spelling of a server: every loopback alias as `localhost` (it also drops
    # a trailing dot, as one spelling of the same name: `localhost.` is spelt `localhost`)
    same_as_localhost = canonical_server(url) == "http://localhost:8787"
    assert same_as_localhost is (loopback or host == "localhost.")


def test_an_empty_or_missing_host_is_not_loopback() -> None:
    assert not is_loopback_host(None)
    assert not is_loopback_host("")
