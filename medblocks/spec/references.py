"""Inline the local `$ref`s of an OpenAPI document, within fixed bounds.

This is the one dereferencer every comparison uses (`structure.structural_view`, hence the
drift checker, and `document.dereferenced_pinned`). A document comes from a file or from
whatever a target serves, so it is treated as hostile:

* **Fan-out.** A schema that refers to the next one ten times, repeated a few levels, inlines
  to 10^levels copies (2.6 KB became a gigabyte). Every node a reference copies in counts
  against `MAX_INLINED`; past it the document is refused with a `SpecError` naming why. (The
  document's own nodes are bounded by its size: `document.MAX_DOCUMENT_BYTES`.)
* **Depth.** Nesting (counting each reference followed as one level) is limited to
  `MAX_DEPTH`, so a long chain of references cannot exhaust the stack of this walk or of the
  walks that read its result.
* **Cycles.** A reference back to a schema that is already being inlined above (a recursive
  schema such as a tree node) becomes `{"$recursion": N}`: "the schema N references up". N
  does not depend on component names, so two documents with the same recursive shape compare
  equal and a changed one is reported where it changed. A loop of references that never
  reaches a schema (`A -> B -> A`) cannot mean anything and raises `SpecError`.

Written by hand: libraries that resolve references (`referencing`, `jsonref`) resolve lazily
or without limits, and none marks recursion in a name-free way a comparison can use.
"""

from __future__ import annotations

from typing import Any

from medblocks.spec.errors import SpecError

MAX_INLINED = 100_000  # nodes copied in by references; the pinned document: 8.5k
MAX_DEPTH = 100  # the pinned document needs 19, a reference followed counting one
RECURSION_KEY = "$recursion"


def resolve_pointer(document: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer such as `#/components/schemas/Patient`."""
    if not ref.startswith("#/"):
        raise SpecError(f"only local references are supported, got {ref!r}")
    node: Any = document
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SpecError(f"dangling reference {ref!r}") from exc
    return node


def dereference(
    document: dict[str, Any], *, max_inlined: int = MAX_INLINED, max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """A copy of `document` with every local `$ref` inlined (siblings of `$ref` are kept).

    Raises `SpecError` for a dangling or non-local reference, a loop of references, or a
    document whose references would copy in more than `max_inlined` nodes or nest past
    `max_depth` levels. (The document's own nodes are bounded by its size in bytes.)
    """
    inlined = _Inliner(document, max_inlined, max_depth).node(document, (), 0, ())
    if not isinstance(inlined, dict):
        raise SpecError("the document is not a JSON object once its references are inlined")
    return inlined


class _Inliner:
    def __init__(self, document: dict[str, Any], max_inlined: int, max_depth: int) -> None:
        self.document = document
        self.max_inlined = max_inlined
        self.max_depth = max_depth
        self.inlined = 0  # nodes produced below a reference
        self.resolved: dict[str, Any] = {}  # pointer -> node, each pointer walked once

    def node(self, value: Any, trail: tuple[str, ...], depth: int, chain: tuple[str, ...]) -> Any:
        """`trail`: the references being inlined above this node; `chain`: those followed since
        the last node with content (a repeat there is a loop that never reaches a schema)."""
        if depth > self.max_depth:
            raise SpecError(
                f"it nests deeper than {self.max_depth} levels, counting each $ref followed "
                "(a very long chain of references); refused, not compared"
            )
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                return self.reference(value, ref, trail, depth, chain)
            self.count(len(value), trail)
            return {
                key: self.node(item, trail, depth + 1, ())
                if isinstance(item, (dict, list))
                else item
                for key, item in value.items()
            }
        if isinstance(value, list):
            self.count(len(value), trail)
            return [
                self.node(item, trail, depth + 1, ()) if isinstance(item, (dict, list)) else item
                for item in value
            ]
        return value

    def count(self, children: int, trail: tuple[str, ...]) -> None:
        """Count a container's children (each node is counted once, by its parent) when it is
        being copied in by a reference; refuse past the budget."""
        if not trail:
            return
        self.inlined += children
        if self.inlined > self.max_inlined:
            raise SpecError(
                f"its $refs fan out: inlining every use of every schema passes "
                f"{self.max_inlined:,} nodes; refused, not compared"
            )

    def reference(
        self,
        holder: dict[str, Any],
        ref: str,
        trail: tuple[str, ...],
        depth: int,
        chain: tuple[str, ...],
    ) -> Any:
        if ref in chain:
            raise SpecError(
                f"reference cycle through {ref!r}: the references point at each other and "
                "never reach a schema"
            )
        if ref in trail:
            target: Any = {RECURSION_KEY: len(trail) - trail.index(ref)}
        else:
            if ref not in self.resolved:
                self.resolved[ref] = resolve_pointer(self.document, ref)
            target = self.node(self.resolved[ref], (*trail, ref), depth + 1, (*chain, ref))
        if len(holder) == 1 or not isinstance(target, dict):
            return target  # `target` is a fresh copy already
        for key, item in holder.items():  # siblings of `$ref` win over the target's keys
            if key != "$ref":
                target[key] = self.node(item, trail, depth + 1, ())
        return target
