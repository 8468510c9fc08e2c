"""Alerts: the rules and their settings, the channels (URLs masked), a test send, the history of
what was sent and why, and silences (add, end)."""

from __future__ import annotations

import streamlit as st

from medblocks.alerts import engine
from medblocks.alerts.settings import RULES, alert_settings
from medblocks.config import ConfigError
from medblocks.dashboard import alerts_view
from medblocks.dashboard.roles import NotAllowed
from ui_pages import _access, _audit, _mirror

st.title("Alerts")
try:
    settings = alert_settings()
except ConfigError as exc:
    st.error("The alert settings cannot be used.")
    st.text(str(exc))
    st.stop()
m = _mirror.mirror()

st.subheader("Rules")
st.dataframe(alerts_view.rules_frame(settings), hide_index=True)
st.caption(
    f"Evaluated after every mirror change and by `python -m medblocks alerts check`; a firing "
    f"alert is repeated every {settings.repeat_minutes:g} min and sends RESOLVED when it stops."
)

st.subheader("Channels")
if not settings.urls:
    st.info(
        "No channel configured: nothing is sent. Set MEDBLOCKS_ALERT_URLS to apprise URLs "
        "(Slack, Teams, e-mail, JSON webhook; Ops guide: alerts)."
    )
else:
    st.dataframe(alerts_view.channels_frame(settings), hide_index=True)
    if st.button("Send a test message", key="alerts_test"):
        decision = engine.test_send(m, settings, f"dashboard {engine.who()}")
        (st.success if decision.outcome == "sent" else st.error)(
            f"Test message: {decision.outcome} ({decision.detail})"
        )

st.subheader("History")
history = engine.history(m)
if history.empty:
    st.text("Nothing sent yet.")
else:
    st.dataframe(
        alerts_view.history_table(history),
        hide_index=True,
        column_config={"view": st.column_config.LinkColumn("view", display_text="open")},
    )

st.subheader("Silences")
silences = engine.silences_frame(m)
if silences.empty:
    st.text("No silence.")
else:
    st.dataframe(silences, hide_index=True)
with st.form("alerts_silence"):
    cols = st.columns(3)
    rule = cols[0].selectbox("Rule", RULES)
    group = cols[1].text_input("Only this group (source id, endpoint id; empty: all)")
    hours = cols[2].number_input("For hours", min_value=0.25, max_value=720.0, value=4.0)
    comment = st.text_input("Why")
    if st.form_submit_button("Silence"):
        if not comment.strip():
            st.error("Say why (the history shows it).")
        else:
            try:
                _audit.act(
                    "alert-silence",
                    engine.add_silence,
                    m,
                    rule,
                    group.strip() or None,
                    hours,
                    comment.strip(),
                    f"dashboard {_access.who().who}",
                    target=f"{rule} {group.strip() or 'all'}",
                )
            except NotAllowed as exc:
                st.error(str(exc))
            else:
                st.rerun()
ending = st.text_input("End a silence now (its id)", key="alerts_end")
if ending and st.button("End silence", key="alerts_end_button"):
    try:
        ended = _audit.act(
            "alert-silence", engine.end_silence, m, ending.strip(), target=ending.strip()
        )
    except NotAllowed as exc:
        st.error(str(exc))
        st.stop()
    (st.success if ended else st.warning)("Ended." if ended else "No active silence with that id.")
