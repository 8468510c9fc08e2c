"""Version drift between two OpenAPI documents: every change classified, with a stable rule id.

The comparison walks the structural views of both documents (`structure.structural_view`:
dereferenced, prose set aside), so a change in wording is never drift and a change anywhere a
`$ref` points is seen where it is used. Each change gets a level:

* ``breaking``   - a client written against OLD can fail against NEW;
* ``compatible`` - NEW differs but an OLD client keeps working (an added endpoint, a new optional
  request field, a looser request limit);
* ``info``       - worth knowing, no contract effect (servers, the `info.version` date).

Rule ids follow oasdiff's names where oasdiff has one (`api-path-removed`,
`request-property-became-required`, `response-property-enum-value-added`, ...). A new value in a
response enum is breaking here, as in oasdiff's warning level: a client that maps every
connection status (the dashboard does) meets a value it has never seen. Keywords the rules do not
know are still reported (`*-schema-changed`, breaking), so nothing differs silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from medblocks.spec.document import Document
from medblocks.spec.errors import SpecError
from medblocks.spec.structure import structural_view

Level = Literal["breaking", "compatible", "info"]
Headline = Literal["in-sync", "compatible-drift", "breaking-drift", "unknown"]
Relation = Literal["older", "same", "newer", "unknown"]
LEVELS: tuple[Level, ...] = ("breaking", "compatible", "info")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MISSING = object()


@dataclass(frozen=True)
class Change:
    """One difference: its rule id, level, where it is (operation or path) and what changed."""

    rule: str
    level: Level
    location: str
    message: str


@dataclass
class DriftReport:
    """All changes from OLD to NEW, the `info.version` comparison and the one-word headline."""

    old_label: str
    new_label: str
    old_version: str | None
    new_version: str | None
    version_relation: Relation
    changes: list[Change] = field(default_factory=list)
    error: str | None = None

    @property
    def headline(self) -> Headline:
        if self.error is not None:
            return "unknown"
        if any(c.level == "breaking" for c in self.changes):
            return "breaking-drift"
        if any(c.level == "compatible" for c in self.changes):
            return "compatible-drift"
        return "in-sync"

    def counts(self) -> dict[str, int]:
        return {level: sum(c.level == level for c in self.changes) for level in LEVELS}

    def fails(self, fail_on: str) -> bool:
        """Whether the report reaches the `--fail-on` threshold (`unknown` fails unless `never`)."""
        if fail_on == "never":
            return False
        if self.headline == "unknown":
            return True
        reached = LEVELS[: LEVELS.index(fail_on) + 1] if fail_on in LEVELS else ()
        return any(c.level in reached for c in self.changes)

    @property
    def compared(self) -> str:
        """What was compared with what: both sources and their `info.version`s, in one line."""
        return (
            f"{self.old_label} (version {self.old_version or 'unknown'}) vs "
            f"{self.new_label} (version {self.new_version or 'unknown'}, {self.version_relation})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "headline": self.headline,
            "compared": self.compared,
            "old": {"source": self.old_label, "version": self.old_version},
            "new": {"source": self.new_label, "version": self.new_version},
            "version_relation": self.version_relation,
            "counts": self.counts(),
            "error": self.error,
            "changes": [asdict(c) for c in self.changes],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        headline = f"drift: {self.headline}" + (f" ({self.error})" if self.error else "")
        lines = [headline, f"compared: {self.compared}"]
        counts = self.counts()
        lines.append(", ".join(f"{counts[level]} {level}" for level in LEVELS))
        lines += [f"{c.level:<10} {c.rule:<45} {c.location}: {c.message}" for c in self.changes]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        counts = self.counts()
        lines = [
            f"### Spec drift: `{self.headline}`",
            "",
            f"- compared: {_cell(self.compared)}",
            "- " + ", ".join(f"{counts[level]} {level}" for level in LEVELS),
        ]
        if self.error:
            lines.append(f"- error: {_cell(self.error)}")
        if self.changes:
            lines += ["", "| level | rule | where | change |", "|---|---|---|---|"]
            lines += [
                f"| {c.level} | `{c.rule}` | `{_cell(c.location)}` | {_cell(c.message)} |"
                for c in self.changes
            ]
        return "\n".join(lines)

    def render(self, fmt: str) -> str:
        renderers = {"text": self.to_text, "json": self.to_json, "markdown": self.to_markdown}
        return renderers[fmt]()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def compare_versions(old: str | None, new: str | None) -> Relation:
    """How NEW's `info.version` date relates to OLD's; `unknown` when either is not a date."""
    try:
        old_date, new_date = date.fromisoformat(str(old)), date.fromisoformat(str(new))
    except ValueError:
        return "unknown"
    if new_date == old_date:
        return "same"
    return "newer" if new_date > old_date else "older"


def unknown_report(
    old_label: str,
    new_label: str,
    old: Document | None,
    error: str,
    new: Document | None = None,
) -> DriftReport:
    """The report for a comparison that could not be made: NEW unreadable or unreachable, or
    either document refused (its `$ref`s fan out, loop or nest too deep). The versions of the
    documents that could be read are still shown."""
    old_version, new_version = _version(old), _version(new)
    relation = compare_versions(old_version, new_version)
    return DriftReport(old_label, new_label, old_version, new_version, relation, error=error)


def diff_documents(
    old: Document, new: Document, old_label: str = "old", new_label: str = "new"
) -> DriftReport:
    """Classify every structural change from OLD to NEW; `unknown`, naming the document and why,
    when either is refused by the bounded dereferencer."""
    try:
        old_view = structural_view(old)
    except SpecError as exc:
        return unknown_report(old_label, new_label, old, f"{old_label}: {exc}", new)
    try:
        new_view = structural_view(new)
    except SpecError as exc:
        return unknown_report(old_label, new_label, old, f"{new_label}: {exc}", new)
    old_version = _version(old_view)
    new_version = _version(new_view)
    report = DriftReport(
        old_label, new_label, old_version, new_version, compare_versions(old_version, new_version)
    )
    differ = _Differ(report.changes)
    differ.document(old_view, new_view)
    return report


def _version(document: Any) -> str | None:
    """`info.version` of a document or its view; None when it has none."""
    info = document.get("info") if isinstance(document, dict) else None
    version = info.get("version") if isinstance(info, dict) else None
    return None if version is None else str(version)


class _Differ:
    """Walks two structural views and appends classified `Change`s."""

    def __init__(self, changes: list[Change]) -> None:
        self.changes = changes

    def add(self, rule: str, level: Level, location: str, message: str) -> None:
        self.changes.append(Change(rule, level, location, message))

    def value(
        self, rule: str, level: Level, location: str, old: Any, new: Any, what: str = ""
    ) -> None:
        """One value compared as a whole; the change reads `{what}OLD -> NEW`."""
        if old != new:
            self.add(rule, level, location, f"{what}{old!r} -> {new!r}")

    # -- document level -------------------------------------------------------------------
    def document(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.value(
            "api-version-changed",
            "info",
            "info.version",
            old.get("info", {}).get("version"),
            new.get("info", {}).get("version"),
        )
        self.value(
            "openapi-version-changed", "info", "openapi", old.get("openapi"), new.get("openapi")
        )
        if old.get("servers") != new.get("servers"):
            self.add("api-servers-changed", "info", "servers", "the server list changed")
        self.security_schemes(old.get("securitySchemes", {}), new.get("securitySchemes", {}))
        self.value(
            "api-global-security-changed",
            "breaking",
            "security",
            old.get("security"),
            new.get("security"),
        )
        self.paths(old.get("paths", {}), new.get("paths", {}))

    def security_schemes(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for name in sorted(set(old) | set(new)):
            where = f"securitySchemes/{name}"
            if name not in new:
                self.add("api-security-scheme-removed", "breaking", where, "scheme removed")
            elif name not in old:
                self.add("api-security-scheme-added", "compatible", where, "scheme added")
            elif old[name] != new[name]:
                self.add("api-security-scheme-changed", "breaking", where, "scheme changed")

    def paths(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for path in sorted(set(old) | set(new)):
            if path not in new:
                self.add("api-path-removed", "breaking", path, "path removed")
                continue
            if path not in old:
                self.add("api-path-added", "compatible", path, "path added")
                continue
            self.path_item(path, old[path], new[path])

    def path_item(self, path: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        shared = _params(old.get("parameters", []))
        shared_new = _params(new.get("parameters", []))
        for method in HTTP_METHODS:
            where = f"{method.upper()} {path}"
            if method in old and method not in new:
                self.add("api-removed-without-deprecation", "breaking", where, "operation removed")
            elif method in new and method not in old:
                self.add("endpoint-added", "compatible", where, "operation added")
            elif method in old:
                self.operation(where, old[method], new[method], shared, shared_new)

    # -- operations -----------------------------------------------------------------------
    def operation(
        self,
        where: str,
        old: dict[str, Any],
        new: dict[str, Any],
        shared_old: dict[tuple[str, str], Any],
        shared_new: dict[tuple[str, str], Any],
    ) -> None:
        self.value(
            "api-operation-id-removed",
            "breaking",
            where,
            old.get("operationId"),
            new.get("operationId"),
            what="operationId ",
        )
        if not old.get("deprecated") and new.get("deprecated"):
            self.add("endpoint-deprecated", "info", where, "operation deprecated")
        self.value(
            "api-security-changed",
            "breaking",
            where,
            old.get("security"),
            new.get("security"),
            what="security ",
        )
        self.parameters(
            where,
            {**shared_old, **_params(old.get("parameters", []))},
            {**shared_new, **_params(new.get("parameters", []))},
        )
        self.request_body(where, old.get("requestBody"), new.get("requestBody"))
        self.responses(where, old.get("responses", {}), new.get("responses", {}))
        self.callbacks(where, old.get("callbacks", {}), new.get("callbacks", {}))

    def parameters(
        self, where: str, old: dict[tuple[str, str], Any], new: dict[tuple[str, str], Any]
    ) -> None:
        for key in sorted(set(old) | set(new)):
            name = f"{key[0]} parameter {key[1]!r}"
            if key not in new:
                self.add("request-parameter-removed", "breaking", where, f"{name} removed")
                continue
            if key not in old:
                if new[key].get("required"):
                    self.add("new-required-request-parameter", "breaking", where, f"{name} added")
                else:
                    self.add("new-optional-request-parameter", "compatible", where, f"{name} added")
                continue
            was, now = bool(old[key].get("required")), bool(new[key].get("required"))
            if not was and now:
                self.add("request-parameter-became-required", "breaking", where, name)
            elif was and not now:
                self.add("request-parameter-became-optional", "compatible", where, name)
            self.schema(
                where,
                "request",
                name,
                old[key].get("schema", {}),
                new[key].get("schema", {}),
                root="request-parameter",
            )

    def request_body(self, where: str, old: Any, new: Any) -> None:
        if old is None and new is None:
            return
        if new is None:
            self.add("request-body-removed", "breaking", where, "request body removed")
            return
        if old is None:
            required = bool(new.get("required"))
            rule = "new-required-request-body" if required else "new-optional-request-body"
            self.add(rule, "breaking" if required else "compatible", where, "request body added")
            return
        if not old.get("required") and new.get("required"):
            self.add("request-body-became-required", "breaking", where, "request body")
        elif old.get("required") and not new.get("required"):
            self.add("request-body-became-optional", "compatible", where, "request body")
        self.schemas_by_key(
            where,
            "request",
            old.get("content", {}),
            new.get("content", {}),
            rules=("request-body-media-type-removed", "request-body-media-type-added"),
            label=lambda media: f"body {media}",
            root="request-body",
        )

    def responses(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for status in sorted(set(old) | set(new)):
            success = str(status).startswith("2")
            kind = "success" if success else "non-success"
            if status not in new:
                level: Level = "breaking" if success else "compatible"
                self.add(f"response-{kind}-status-removed", level, where, f"status {status}")
                continue
            if status not in old:
                self.add(f"response-{kind}-status-added", "compatible", where, f"status {status}")
                continue
            self.response(where, str(status), old[status], new[status])

    def response(self, where: str, status: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.schemas_by_key(
            where,
            "response",
            old.get("headers", {}),
            new.get("headers", {}),
            rules=("response-header-removed", "response-header-added"),
            label=lambda header: f"status {status} header {header!r}",
            root="response-header",
        )
        self.schemas_by_key(
            where,
            "response",
            old.get("content", {}),
            new.get("content", {}),
            rules=("response-media-type-removed", "response-media-type-added"),
            label=lambda media: f"status {status} body {media}",
            root="response-body",
        )

    def schemas_by_key(
        self,
        where: str,
        direction: Literal["request", "response"],
        old: dict[str, Any],
        new: dict[str, Any],
        rules: tuple[str, str],
        label: Callable[[str], str],
        root: str,
    ) -> None:
        """Headers or media types: one removed (breaking), added (compatible) or compared."""
        removed, added = rules
        for key in sorted(set(old) | set(new)):
            if key not in new:
                self.add(removed, "breaking", where, f"{label(key)} removed")
            elif key not in old:
                self.add(added, "compatible", where, f"{label(key)} added")
            else:
                old_schema, new_schema = old[key].get("schema", {}), new[key].get("schema", {})
                self.schema(where, direction, label(key), old_schema, new_schema, root=root)

    def callbacks(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for name in sorted(set(old) | set(new)):
            if name not in new:
                self.add("api-callback-removed", "breaking", where, f"callback {name!r}")
            elif name not in old:
                self.add("api-callback-added", "compatible", where, f"callback {name!r}")
            elif old[name] != new[name]:
                self.add("api-callback-changed", "breaking", where, f"callback {name!r} changed")

    # -- schemas --------------------------------------------------------------------------
    def schema(
        self,
        where: str,
        direction: Literal["request", "response"],
        name: str,
        old: Any,
        new: Any,
        root: str,
        prop: str = "",
    ) -> None:
        """Compare two schemas. `prop` is the property path inside the root (empty at the root)."""
        if old == new:  # equal subtrees hold no change: skip the walk
            return
        if not isinstance(old, dict) or not isinstance(new, dict):
            self.add(f"{root}-schema-changed", "breaking", where, f"{name}: schema changed")
            return
        prefix, label = _rule_prefix_and_label(direction, root, name, prop)
        request = direction == "request"

        old_core, old_null = _split_nullable(old)
        new_core, new_null = _split_nullable(new)
        if old_null != new_null:
            if new_null:
                level: Level = "compatible" if request else "breaking"
                self.add(f"{prefix}-became-nullable", level, where, label)
            else:
                level = "breaking" if request else "compatible"
                self.add(f"{prefix}-became-not-nullable", level, where, label)

        handled = {"anyOf"} if (old_null or new_null) else set()
        handled |= self.types(where, prefix, label, old_core, new_core)
        handled |= self.enums(where, prefix, label, request, old_core, new_core)
        handled |= self.limits(where, prefix, label, request, old_core, new_core)
        handled |= self.properties(where, direction, name, root, prop, old_core, new_core)
        if "items" in old_core or "items" in new_core:
            handled.add("items")
            self.schema(
                where,
                direction,
                name,
                old_core.get("items", {}),
                new_core.get("items", {}),
                root,
                f"{prop}[]" if prop else "[]",
            )
        for keyword in ("anyOf", "oneOf", "allOf"):
            if keyword in handled or (keyword not in old_core and keyword not in new_core):
                continue
            handled.add(keyword)
            old_list, new_list = old_core.get(keyword, []), new_core.get(keyword, [])
            if len(old_list) != len(new_list):
                self.add(f"{prefix}-{keyword.lower()}-changed", "breaking", where, label)
                continue
            for index, (a, b) in enumerate(zip(old_list, new_list, strict=True)):
                inner = f"{prop}<{keyword}[{index}]>" if prop else f"<{keyword}[{index}]>"
                self.schema(where, direction, name, a, b, root, inner)
        for keyword in ("format", "pattern"):
            handled.add(keyword)
            self.value(
                f"{prefix}-{keyword}-changed",
                "breaking" if request else "compatible",
                where,
                old_core.get(keyword),
                new_core.get(keyword),
                what=f"{label}: {keyword} ",
            )
        handled.add("default")
        if old_core.get("default") != new_core.get("default"):
            self.add(f"{prefix}-default-value-changed", "info", where, label)
        for keyword in sorted((set(old_core) | set(new_core)) - handled, key=str):
            if old_core.get(keyword, _MISSING) != new_core.get(keyword, _MISSING):
                self.add(f"{prefix}-schema-changed", "breaking", where, f"{label}: {keyword}")

    def types(
        self, where: str, prefix: str, label: str, old: dict[str, Any], new: dict[str, Any]
    ) -> set[str]:
        old_types, new_types = _types(old), _types(new)
        if old_types and new_types and old_types != new_types:
            self.add(
                f"{prefix}-type-changed",
                "breaking",
                where,
                f"{label}: {sorted(old_types)} -> {sorted(new_types)}",
            )
        return {"type"}

    def enums(
        self,
        where: str,
        prefix: str,
        label: str,
        request: bool,
        old: dict[str, Any],
        new: dict[str, Any],
    ) -> set[str]:
        if old.get("const", _MISSING) != new.get("const", _MISSING):
            self.add(
                f"{prefix}-const-changed",
                "breaking",
                where,
                f"{label}: {old.get('const')!r} -> {new.get('const')!r}",
            )
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if old_enum is not None and new_enum is not None:
            for value in _missing_from(old_enum, new_enum):
                level: Level = "compatible" if request else "breaking"
                self.add(f"{prefix}-enum-value-added", level, where, f"{label}: {value!r}")
            for value in _missing_from(new_enum, old_enum):
                level = "breaking" if request else "compatible"
                self.add(f"{prefix}-enum-value-removed", level, where, f"{label}: {value!r}")
        elif old_enum != new_enum:
            # An enum set where there was none restricts values; one dropped lifts the limit.
            tightened = new_enum is not None
            level = "breaking" if tightened == request else "compatible"
            rule = "enum-added" if tightened else "enum-removed"
            self.add(f"{prefix}-{rule}", level, where, label)
        return {"const", "enum"}

    def limits(
        self,
        where: str,
        prefix: str,
        label: str,
        request: bool,
        old: dict[str, Any],
        new: dict[str, Any],
    ) -> set[str]:
        limits = {
            "maxLength": ("max-length", True),
            "maximum": ("max", True),
            "exclusiveMaximum": ("exclusive-max", True),
            "maxItems": ("max-items", True),
            "maxProperties": ("max-properties", True),
            "minLength": ("min-length", False),
            "minimum": ("min", False),
            "exclusiveMinimum": ("exclusive-min", False),
            "minItems": ("min-items", False),
            "minProperties": ("min-properties", False),
        }
        for keyword, (slug, is_upper) in limits.items():
            was, now = old.get(keyword), new.get(keyword)
            if was == now:
                continue
            if was is None or now is None:
                tightened = was is None
                rule = f"{prefix}-{slug}-set" if tightened else f"{prefix}-{slug}-unset"
            else:
                tightened = (now < was) if is_upper else (now > was)
                direction = "decreased" if now < was else "increased"
                rule = f"{prefix}-{slug}-{direction}"
            level: Level = ("breaking" if tightened else "compatible") if request else "info"
            self.add(rule, level, where, f"{label}: {keyword} {was!r} -> {now!r}")
        return set(limits)

    def properties(
        self,
        where: str,
        direction: Literal["request", "response"],
        name: str,
        root: str,
        prop: str,
        old: dict[str, Any],
        new: dict[str, Any],
    ) -> set[str]:
        request = direction == "request"
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        for key in sorted(set(old_props) | set(new_props) | old_req | new_req):
            path = f"{prop}.{key}" if prop else key
            label = f"{name} property {path!r}"
            known_old = key in old_props or key in old_req
            known_new = key in new_props or key in new_req
            if known_old and not known_new:
                if request:
                    self.add("request-property-removed", "breaking", where, label)
                elif key in old_req:
                    self.add("response-required-property-removed", "breaking", where, label)
                else:
                    self.add("response-optional-property-removed", "breaking", where, label)
                continue
            if known_new and not known_old:
                if request and key in new_req:
                    self.add("new-required-request-property", "breaking", where, label)
                elif request:
                    self.add("new-optional-request-property", "compatible", where, label)
                elif key in new_req:
                    self.add("response-required-property-added", "compatible", where, label)
                else:
                    self.add("response-optional-property-added", "compatible", where, label)
                continue
            if key not in old_req and key in new_req:
                level: Level = "breaking" if request else "compatible"
                self.add(f"{direction}-property-became-required", level, where, label)
            elif key in old_req and key not in new_req:
                level = "compatible" if request else "breaking"
                self.add(f"{direction}-property-became-optional", level, where, label)
            self.schema(
                where, direction, name, old_props.get(key, {}), new_props.get(key, {}), root, path
            )
        old_extra = old.get("additionalProperties", _MISSING)
        new_extra = new.get("additionalProperties", _MISSING)
        if old_extra != new_extra:
            if isinstance(old_extra, dict) and isinstance(new_extra, dict):
                self.schema(where, direction, name, old_extra, new_extra, root, f"{prop}{{*}}")
            else:
                closed = new_extra is False
                level = "breaking" if closed == request else "compatible"
                rule = (
                    "additional-properties-restricted"
                    if closed
                    else "additional-properties-changed"
                )
                prefix, label = _rule_prefix_and_label(direction, root, name, prop)
                self.add(f"{prefix}-{rule}", level, where, label)
        return {"properties", "required", "additionalProperties"}


def _rule_prefix_and_label(direction: str, root: str, name: str, prop: str) -> tuple[str, str]:
    """A schema change's rule prefix and label: the root's own at the root, a property's below."""
    if prop:
        return f"{direction}-property", f"{name} property {prop!r}"
    return root, name


def _missing_from(known: Any, values: Any) -> list[Any]:
    """The entries of `values` not in `known`, in linear time (enums of a hostile document may be
    long). Scalars compare by value; objects and arrays by their JSON text."""
    known_list = known if isinstance(known, list) else [known]
    seen = {_enum_key(v) for v in known_list}
    values_list = values if isinstance(values, list) else [values]
    return [v for v in values_list if _enum_key(v) not in seen]


def _enum_key(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return ("json", json.dumps(value, sort_keys=True))  # a tuple never equals a scalar
    return value


def _params(parameters: list[Any]) -> dict[tuple[str, str], Any]:
    return {
        (str(p.get("in")), str(p.get("name"))): p
        for p in parameters
        if isinstance(p, dict) and "name" in p
    }


def _split_nullable(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """`anyOf: [X, {type: null}]` (or a type list with "null") -> (X, True)."""
    options = schema.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        core = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(rest) == 1 and isinstance(rest[0], dict):
            return {**core, **rest[0]}, True
        return {**core, "anyOf": rest}, True
    types = schema.get("type")
    if isinstance(types, list) and "null" in types:
        rest_types = [t for t in types if t != "null"]
        return {**schema, "type": rest_types[0] if len(rest_types) == 1 else rest_types}, True
    return schema, False


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {str(t) for t in declared}
    return set()
