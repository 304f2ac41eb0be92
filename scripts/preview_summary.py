"""Markdown summary of a `pulumi preview`: what changes per resource, and what the policy pack refused.

Reads either form that `pulumi preview --json` writes:
- the engine-event stream, one JSON event per line, written when PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true.
  It carries the policy events, so violations and their messages appear. scripts/preview.sh uses it.
- the digest, one JSON document (steps, diagnostics, changeSummary): the default. Pulumi leaves policy
  events out of it, so only the steps and diagnostics can be shown.

One file of about 450 lines on purpose: a CI job runs it with a bare python3, without the project's
virtualenv or package. Standard library only, so any CI with a python3 can run it:
    python3 scripts/preview_summary.py preview.json --stack dev --output summary.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

# What the engine puts in place of a value it only learns during `up`.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# Pulumi's colour directives, e.g. `<{%reset%}>`, left in messages unless --color never.
_COLOUR = re.compile(r"<\{%[^%]*%\}>")
_REPLACE_OPS = {"replace", "create-replacement", "delete-replaced", "discard-replaced", "import-replacement"}
_OP_OF_STEP = {"discard": "delete"} | dict.fromkeys(_REPLACE_OPS, "replace")
# Operations in the order a reviewer reads them, with the engine's own symbols.
SYMBOLS = {
    "create": "+",
    "update": "~",
    "replace": "+-",
    "delete": "-",
    "read": ">",
    "import": "=",
    "refresh": "~",
}
MAX_VALUE = 80
MAX_CHANGES = 25


@dataclass(frozen=True)
class PropertyChange:
    path: str
    kind: str  # add | update | delete, with a -replace suffix when it forces a replacement
    old: Any = None
    new: Any = None
    has_old: bool = False
    has_new: bool = False


@dataclass(frozen=True)
class ResourceChange:
    op: str
    urn: str
    changes: tuple[PropertyChange, ...] = ()

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def type(self) -> str:
        return self.urn.split("::")[2].rsplit("$", 1)[-1]


@dataclass(frozen=True)
class Violation:
    level: str
    policy: str
    pack: str
    urn: str
    message: str


@dataclass(frozen=True)
class Preview:
    stack: str
    resources: tuple[ResourceChange, ...]
    unchanged: int
    violations: tuple[Violation, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    exit_status: int = 0

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("create", "update", "replace", "delete"), 0)
        for resource in self.resources:
            counts[resource.op] = counts.get(resource.op, 0) + 1
        return counts

    @property
    def failed(self) -> bool:
        mandatory = any(v.level == "mandatory" for v in self.violations)
        return self.exit_status != 0 or bool(self.errors) or mandatory


def parse_path(path: str) -> list[str | int]:
    """Split a Pulumi property path (`spec.template.containers[0].env["A.B"]`) into keys and indices."""
    keys: list[str | int] = []
    i = 0
    while i < len(path):
        if path[i] == ".":
            i += 1
        elif path.startswith('["', i):
            end = path.index('"]', i + 2)
            while path[end - 1] == "\\":
                end = path.index('"]', end + 1)
            keys.append(json.loads(path[i + 1 : end + 1]))
            i = end + 2
        elif path[i] == "[":
            end = path.index("]", i)
            keys.append(int(path[i + 1 : end]))
            i = end + 1
        else:
            match = re.match(r"[^.\[]+", path[i:])
            assert match is not None
            keys.append(match.group())
            i += match.end()
    return keys


def lookup(properties: dict[str, Any] | None, path: str) -> tuple[bool, Any]:
    """(found, value) of a property path inside a resource's inputs or outputs."""
    value: Any = properties
    for key in parse_path(path):
        in_list = isinstance(value, list) and isinstance(key, int) and key < len(value)
        if not (in_list or (isinstance(value, dict) and key in value)):
            return False, None
        value = value[key]
    return True, value


def _key_path(path: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def leaf_diff(old: Any, new: Any, path: str = "") -> Iterator[PropertyChange]:
    """Every leaf that differs between two property values, as the engine's own display finds it
    for resources whose provider gives no detailed diff (and for components, which have none)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            sub = _key_path(path, key)
            if key not in new:
                yield PropertyChange(sub, "delete", old[key], None, True, False)
            elif key not in old:
                yield PropertyChange(sub, "add", None, new[key], False, True)
            else:
                yield from leaf_diff(old[key], new[key], sub)
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            if i >= len(new):
                yield PropertyChange(f"{path}[{i}]", "delete", old[i], None, True, False)
            elif i >= len(old):
                yield PropertyChange(f"{path}[{i}]", "add", None, new[i], False, True)
            else:
                yield from leaf_diff(old[i], new[i], f"{path}[{i}]")
    elif old != new:
        yield PropertyChange(path, "update", old, new, True, True)


def _property_changes(step: dict[str, Any]) -> tuple[PropertyChange, ...]:
    """Changed properties of one step, with old and new values where the JSON holds them."""
    old, new = step["old"] or {}, step["new"] or {}
    detailed = step["detailedDiff"]
    if detailed is None:
        # No detailed diff: compare the inputs, within the top-level keys the provider named if any.
        named, forcing = set(step["diffReasons"]), set(step["replaceReasons"])
        changes = []
        for change in leaf_diff(old.get("inputs") or {}, new.get("inputs") or {}):
            top = parse_path(change.path)[0]
            if named and top not in named:
                continue
            changes.append(replace(change, kind=change.kind + ("-replace" if top in forcing else "")))
        return tuple(changes)
    changes = []
    for path, diff in sorted(detailed.items()):
        before = old.get("inputs") if diff.get("inputDiff") else old.get("outputs") or old.get("inputs")
        has_old, old_value = lookup(before, path)
        has_new, new_value = lookup(new.get("inputs"), path)
        changes.append(PropertyChange(path, diff["kind"], old_value, new_value, has_old, has_new))
    return tuple(changes)


def _digest_steps(digest: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "op": step["op"],
            "urn": step["urn"],
            "old": step.get("oldState"),
            "new": step.get("newState"),
            "diffReasons": step.get("diffReasons") or [],
            "replaceReasons": step.get("replaceReasons") or [],
            "detailedDiff": step.get("detailedDiff"),
        }
        for step in digest.get("steps") or []
    ]


def _event_steps(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    steps = []
    for event in events:
        if "resourcePreEvent" not in event:
            continue
        meta = event["resourcePreEvent"]["metadata"]
        detailed = meta.get("detailedDiff")
        steps.append(
            {
                "op": meta["op"],
                "urn": meta["urn"],
                "old": meta.get("old"),
                "new": meta.get("new"),
                "diffReasons": meta.get("diffs") or [],
                "replaceReasons": meta.get("keys") or [],
                "detailedDiff": None
                if detailed is None
                else {
                    path: {"kind": d["diffKind"], "inputDiff": d.get("inputDiff")}
                    for path, d in detailed.items()
                },
            }
        )
    return steps


def _resources(steps: list[dict[str, Any]]) -> tuple[tuple[ResourceChange, ...], int]:
    """One row per resource (a replacement takes up to three engine steps), and how many stay the same."""
    rows: dict[str, ResourceChange] = {}
    unchanged = 0
    for step in steps:
        op = _OP_OF_STEP.get(step["op"], step["op"])
        if op == "same":
            unchanged += 1
        # create-replacement and delete-replaced repeat what the logical `replace` step says.
        elif step["urn"] not in rows or step["op"] == "replace":
            changes = _property_changes(step) if op in ("update", "replace") else ()
            rows[step["urn"]] = ResourceChange(op, step["urn"], changes)
    return tuple(rows.values()), unchanged


def _json_objects(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of an event stream: one per line as the CLI writes them, or pretty-printed
    one after another; a line of anything else (a stray banner on stdout) is skipped."""
    decoder = json.JSONDecoder()
    i = 0
    while i < len(text):
        if text[i] == "{":
            value, i = decoder.raw_decode(text, i)
            yield value
        elif text[i].isspace():
            i += 1
        else:
            end = text.find("\n", i)
            i = len(text) if end == -1 else end + 1


def _clean(message: str) -> str:
    return _COLOUR.sub("", message).strip()


def parse_preview(text: str, stack: str = "", exit_status: int = 0, log: str = "") -> Preview:
    """Read `pulumi preview --json` output, either the digest or the event stream.

    `exit_status` and `log` (the CLI's stderr) tell of failures that come before any event, such as
    a missing stack or plugin: the CLI writes those as `error: ...` lines on stderr.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    is_digest = isinstance(document, dict) and not any(key.endswith("Event") for key in document)
    violations: list[Violation] = []
    diagnostics: list[tuple[str, str]] = []
    summary: dict[str, int] = {}
    if is_digest:
        steps = _digest_steps(document)
        diagnostics = [
            (d.get("severity", ""), d.get("message", "")) for d in document.get("diagnostics") or []
        ]
        summary = document.get("changeSummary") or {}
    else:
        events = list(_json_objects(text))
        steps = _event_steps(events)
        for event in events:
            if policy := event.get("policyEvent"):
                violations.append(
                    Violation(
                        policy["enforcementLevel"],
                        policy["policyName"],
                        policy["policyPackName"],
                        policy.get("resourceUrn", ""),
                        _clean(policy["message"]),
                    )
                )
            elif (diag := event.get("diagnosticEvent")) and not diag.get("ephemeral"):
                diagnostics.append((diag["severity"], diag.get("prefix", "") + diag["message"]))
            elif "summaryEvent" in event:
                summary = event["summaryEvent"].get("resourceChanges") or {}
    resources, unchanged = _resources(steps)
    # The digest lists `same` steps only with --show-sames; the engine's summary always counts them.
    unchanged = summary.get("same", unchanged)
    if not stack:
        stack = next((step["urn"].split("::")[0].removeprefix("urn:pulumi:") for step in steps), "")

    diagnostics += [("error", line) for line in log.splitlines() if line.startswith("error:")]

    def by_severity(severity: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_clean(m) for s, m in diagnostics if s == severity and _clean(m)))

    errors, warnings = by_severity("error"), by_severity("warning")
    return Preview(stack, resources, unchanged, tuple(violations), errors, warnings, exit_status)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _code(text: str) -> str:
    # A backtick inside code would end it early; a double-backtick span with padding holds one.
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _dump(value: Any) -> str:
    return (
        "(known after apply)" if value == UNKNOWN else json.dumps(value, sort_keys=True, ensure_ascii=False)
    )


def _excerpt(text: str, start: int = 0) -> str:
    """At most MAX_VALUE characters of text from about `start`, with … where text was cut."""
    if len(text) <= MAX_VALUE:
        return text
    start = min(start, len(text) - MAX_VALUE + 1)
    head = "…" if start > 0 else ""
    piece = text[start : start + MAX_VALUE - len(head) - 1]
    return head + piece + ("…" if start + len(piece) < len(text) else "")


def format_value(value: Any) -> str:
    return _excerpt(_dump(value))


def format_values(old: Any, new: Any) -> tuple[str, str]:
    """Old and new value; when long, both cut around where they first differ (say a Dockerfile line)."""
    before, after = _dump(old), _dump(new)
    same = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), 0)
    start = max(0, same - MAX_VALUE // 4)
    return _excerpt(before, start), _excerpt(after, start)


def format_change(change: PropertyChange) -> str:
    text = _code(change.path)
    if change.has_old and change.has_new:
        before, after = format_values(change.old, change.new)
        text += f": {_code(before)} → {_code(after)}"
    elif change.has_new:
        text += f": added {_code(format_value(change.new))}"
    elif change.has_old:
        text += f": removed (was {_code(format_value(change.old))})"
    else:
        text += f" ({change.kind.removesuffix('-replace')})"
    if change.kind.endswith("-replace"):
        text += " **forces replacement**"
    return text


def _changes_cell(resource: ResourceChange) -> str:
    shown = [format_change(c) for c in resource.changes[:MAX_CHANGES]]
    if len(resource.changes) > MAX_CHANGES:
        shown.append(f"… and {len(resource.changes) - MAX_CHANGES} more")
    return _cell("\n".join(shown))


def _resource_label(urn: str) -> str:
    if not urn:
        return "(stack)"
    resource = ResourceChange("", urn)
    return f"{_code(resource.name)} ({_code(resource.type)})"


def _row_order(resource: ResourceChange) -> tuple[int, str, str]:
    order = list(SYMBOLS)
    return (order.index(resource.op) if resource.op in order else len(order), resource.type, resource.name)


def render_markdown(preview: Preview) -> str:
    counts = preview.counts
    totals = " · ".join(f"{n} to {op}" for op, n in counts.items())
    lines = [f"### Pulumi preview: `{preview.stack}`", ""]
    if preview.failed:
        mandatory = sum(v.level == "mandatory" for v in preview.violations)
        if mandatory:
            reason = f"{mandatory} mandatory policy violation{'s' * (mandatory != 1)}"
        else:
            reason = "errors" if preview.errors else f"pulumi exited with status {preview.exit_status}"
        lines += [f"**The preview failed: {reason}.** Nothing can be deployed until it passes.", ""]
    lines += [f"**{totals}** ({preview.unchanged} unchanged)", ""]
    if preview.resources:
        lines += ["| op | resource | type | changes |", "| --- | --- | --- | --- |"]
        # By operation, then type and name: the engine emits steps in a different order on every run.
        for r in sorted(preview.resources, key=_row_order):
            op = f"{SYMBOLS.get(r.op, '')} {r.op}".strip()
            lines.append(f"| {op} | {_code(r.name)} | {_code(r.type)} | {_changes_cell(r)} |")
        lines.append("")
    else:
        lines += ["No resource changes.", ""]
    if preview.violations:
        lines += ["#### Policy violations", "", "| level | policy | resource | message |", "| --- " * 4 + "|"]
        for v in preview.violations:
            policy = f"{_code(v.policy)} ({v.pack})"
            lines.append(f"| {v.level} | {policy} | {_resource_label(v.urn)} | {_cell(v.message)} |")
        lines.append("")
    for title, messages in (("Errors", preview.errors), ("Warnings", preview.warnings)):
        if messages:
            lines += [f"#### {title}", ""] + [f"- {_cell(m)}" for m in messages] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("json", type=Path, help="output of `pulumi preview --json` (digest or event stream)")
    parser.add_argument("--stack", default="", help="stack name for the heading (default: from the URNs)")
    parser.add_argument("--output", type=Path, help="write the Markdown here instead of stdout")
    parser.add_argument("--exit-status", type=int, default=0, help="pulumi's exit status")
    parser.add_argument("--log", type=Path, help="pulumi's stderr, for errors before any event")
    args = parser.parse_args(argv)
    log = args.log.read_text() if args.log else ""
    markdown = render_markdown(parse_preview(args.json.read_text(), args.stack, args.exit_status, log))
    if args.output:
        args.output.write_text(markdown)
    else:
        sys.stdout.write(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
