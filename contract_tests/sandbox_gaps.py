"""Known sandbox gaps: prose rules the project's sandbox itself is known to break today.

The ONE place where a rule check is excused, and only against a sandbox (in-process or on
loopback), never against a Medblocks workspace. A listed rule that fails there is reported as
an expected failure naming the gap; once the sandbox is fixed the check passes and the entry
must be removed (the report then says "passes: remove it from sandbox_gaps.py").
"""

from __future__ import annotations

SANDBOX_GAPS: dict[str, str] = {}
