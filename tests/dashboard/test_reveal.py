"""Reveal kept for a browser session (`medblocks.dashboard.reveal`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from medblocks.dashboard.reveal import RevealMemory, browser_key, cookie_token

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_reveal_is_remembered_per_browser_and_user_until_it_lapses() -> None:
    memory = RevealMemory(keep=timedelta(hours=8))
    mine, other = browser_key("ann", "cookie-1"), browser_key("ann", "cookie-2")
    assert mine != other and browser_key("bob", "cookie-1") != mine
    assert "cookie-1" not in str(mine)  # a hash, never the cookie
    assert not memory.remembered(mine, NOW)
    memory.remember(mine, True, NOW)
    assert memory.remembered(mine, NOW + timedelta(hours=7))  # a reload later that day
    assert not memory.remembered(other, NOW)  # another browser: masked
    assert not memory.remembered(mine, NOW + timedelta(hours=8))  # lapsed
    memory.remember(mine, True, NOW)
    memory.remember(mine, False, NOW)  # switched off: off after a reload too
    assert not memory.remembered(mine, NOW)


def test_without_a_cookie_nothing_is_remembered() -> None:
    memory = RevealMemory()
    assert browser_key("ann", None) is None and browser_key("ann", "") is None
    memory.remember(None, True, NOW)
    assert not memory.remembered(None, NOW)


def test_the_xsrf_cookie_is_known_under_each_fresh_mask() -> None:
    token = bytes(range(16))
    masks = (bytes([1, 2, 3, 4]), bytes([200, 7, 0, 99]))
    cookies = [
        f"2|{m.hex()}|{bytes(b ^ m[i % 4] for i, b in enumerate(token)).hex()}|1764849600"
        for m in masks
    ]
    assert cookies[0] != cookies[1]
    assert cookie_token(cookies[0]) == cookie_token(cookies[1]) == token.hex()
    assert browser_key("ann", cookies[0]) == browser_key("ann", cookies[1])
    assert cookie_token("plain-value") == "plain-value"
    assert cookie_token("2|zz|yy|1") == "2|zz|yy|1"  # not hex: taken as it is
