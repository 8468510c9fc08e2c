"""Alerts: rules over the org mirror (and the webhook endpoints and contract reports),
decided once per alert in the mirror's database and delivered through apprise."""
