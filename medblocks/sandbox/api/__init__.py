"""The API part: what Medblocks' 22 operations do (`operations`), checked against the pinned
spec (`validation`), listed in pages (`pagination`), shaped as the spec's objects
(`resources`), and the webhook events they cause, delivered by a background worker
(`webhooks`)."""
