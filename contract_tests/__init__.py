"""The contract suite: schemathesis against the pinned document, documented errors,
behaviour the schema cannot express, drift, and the harness's own self-test."""
