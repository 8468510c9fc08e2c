"""The promises the reference makes only in prose, one test per rule (`contract_tests.prose`).

The selected rules run at once in a bounded pool (fixture `prose_outcomes`); each rule's test
reports its rule's outcome. `-k <rule-id>` runs one rule. A rule listed in
`contract_tests.sandbox_gaps` that fails against a sandbox is an expected failure naming the
gap; anywhere else a failure fails the suite.
"""

from __future__ import annotations

import pytest

from contract_tests.calls import skip_for_time
from contract_tests.prose import RULES, NotRunForTime, ProseRule, RuleContext
from contract_tests.sandbox_gaps import SANDBOX_GAPS
from contract_tests.target import ContractTarget


@pytest.mark.parametrize("prose_rule", RULES.values(), ids=list(RULES))
def test_prose_rule(
    prose_rule: ProseRule,
    prose_outcomes: dict[str, BaseException | None],
    rule_context: RuleContext,
    target: ContractTarget,
    request: pytest.FixtureRequest,
) -> None:
    raised = prose_outcomes[prose_rule.id]
    if isinstance(raised, NotRunForTime):
        skip_for_time(rule_context.state, request.node.nodeid)
    gap = SANDBOX_GAPS.get(prose_rule.id) if target.is_sandbox else None
    if raised is None:
        return
    if isinstance(raised, AssertionError) and gap is not None:
        rule_context.state.excuse(f"rule:{prose_rule.id}", gap)
        pytest.xfail(f"known sandbox gap, rule {prose_rule.id}: {gap} ({raised})")
    raise raised
