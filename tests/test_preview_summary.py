"""scripts/preview_summary.py: the Markdown a reviewer reads, from `pulumi preview --json`."""

import json

import pytest

from scripts import preview_summary as ps


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("spec.replicas", ["spec", "replicas"]),
        (
            "spec.template.spec.containers[0].args[3]",
            ["spec", "template", "spec", "containers", 0, "args", 3],
        ),
        ('metadata.labels["app.kubernetes.io/name"]', ["metadata", "labels", "app.kubernetes.io/name"]),
        ('build.args["A\\"B"].x', ["build", "args", 'A"B', "x"]),
    ],
)
def test_parse_path_splits_keys_indices_and_quoted_keys(path, keys):
    assert ps.parse_path(path) == keys


def test_lookup_finds_nested_values_and_reports_missing_ones():
    props = {"spec": {"containers": [{"args": ["serve", "--gpu-backend", "cuda"]}]}}
    assert ps.lookup(props, "spec.containers[0].args[2]") == (True, "cuda")
    assert ps.lookup(props, "spec.containers[1]") == (False, None)
    assert ps.lookup(props, "spec.missing") == (False, None)
    assert ps.lookup(None, "spec") == (False, None)


def test_values_are_shown_as_json_with_unknowns_named_and_long_ones_cut():
    assert ps.format_value(ps.UNKNOWN) == "(known after apply)"
    assert ps.format_value({"b": 1, "a": "x"}) == '{"a": "x", "b": 1}'
    long = ps.format_value("x" * 200)
    assert len(long) == ps.MAX_VALUE and long.endswith("…")


def test_change_lines_say_old_new_added_removed_and_replacement():
    update = ps.PropertyChange("spec.replicas", "update", 1, 2, True, True)
    assert ps.format_change(update) == "`spec.replicas`: `1` → `2`"
    added = ps.PropertyChange("spec.x", "add", None, "a", False, True)
    assert ps.format_change(added) == '`spec.x`: added `"a"`'
    removed = ps.PropertyChange("spec.x", "delete", "a", None, True, False)
    assert ps.format_change(removed) == '`spec.x`: removed (was `"a"`)'
    forced = ps.PropertyChange("build", "update-replace")
    assert ps.format_change(forced) == "`build` (update) **forces replacement**"


def _event(sequence, **payload):
    return json.dumps({"sequence": sequence, "timestamp": 0, **payload})


def test_replacement_steps_fold_into_one_row_and_same_steps_are_counted():
    urn = "urn:pulumi:dev::shimmy-gpu::docker:index/image:Image::shimmy"
    diff = {"build": {"diffKind": "update-replace", "inputDiff": True}}
    meta = {
        "urn": urn,
        "old": {"inputs": {"build": 1}},
        "new": {"inputs": {"build": 2}},
        "detailedDiff": diff,
    }
    stack = "urn:pulumi:dev::shimmy-gpu::pulumi:pulumi:Stack::shimmy-gpu-dev"
    text = "\n".join(
        [
            _event(0, resourcePreEvent={"metadata": {"op": "same", "urn": stack}}),
            _event(1, resourcePreEvent={"metadata": {**meta, "op": "create-replacement"}}),
            _event(2, resourcePreEvent={"metadata": {**meta, "op": "replace"}}),
            _event(3, resourcePreEvent={"metadata": {**meta, "op": "delete-replaced"}}),
        ]
    )
    preview = ps.parse_preview(text)
    assert preview.stack == "dev"
    assert preview.unchanged == 1
    assert preview.counts == {"create": 0, "update": 0, "replace": 1, "delete": 0}
    (row,) = preview.resources
    assert (row.name, row.type) == ("shimmy", "docker:index/image:Image")
    assert row.changes == (ps.PropertyChange("build", "update-replace", 1, 2, True, True),)


def test_markdown_escapes_table_cells():
    violation = ps.Violation("advisory", "p", "pack", "", "a | b\nc")
    preview = ps.Preview("dev", (), 0, (violation,), (), ())
    markdown = ps.render_markdown(preview)
    assert "| advisory | `p` (pack) | (stack) | a \\| b<br>c |" in markdown
    assert "No resource changes." in markdown
    assert "failed" not in markdown
