"""The contract suite: schemathesis against the pinned document, documented errors, behaviour
the schema cannot express, the rules the reference states only in prose, and drift. The
harness's own tests live in `tests/contract_harness/`."""
