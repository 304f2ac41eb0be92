"""scripts/preview_summary.py: the Markdown a reviewer reads, from `pulumi preview --json`.

tests/fixtures/preview/ holds real engine output (CLI, language host, file backend, policy pack),
recorded by its capture.py on tests/engine/program with the shipped program's dev Deployment.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from scripts import preview_summary as ps

ROOT = Path(__file__).resolve().parent.parent


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


def test_long_values_are_cut_around_their_first_difference():
    old = "FROM builder\n" * 20 + "ARG CUDA_ARCHITECTURES=75\n" + "RUN make\n" * 20
    before, after = ps.format_values(old, old.replace("=75", "=75;86"))
    assert "=75\\n" in before and "=75;86" in after
    assert before.startswith("…") and before.endswith("…")
    assert len(before) <= ps.MAX_VALUE and len(after) <= ps.MAX_VALUE


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


def test_a_failure_before_any_event_shows_the_clis_error_and_status():
    log = "Created stack 'dev'\nerror: no stack named 'dev' found\n"
    preview = ps.parse_preview("", "dev", exit_status=6, log=log)
    assert preview.failed and preview.errors == ("error: no stack named 'dev' found",)
    assert "**The preview failed: errors.**" in ps.render_markdown(preview)
    silent = ps.render_markdown(ps.parse_preview("", "dev", exit_status=255))
    assert "**The preview failed: pulumi exited with status 255.**" in silent


def test_without_a_detailed_diff_the_inputs_are_compared_within_the_keys_the_provider_named():
    old = {"spec": {"replicas": 1}, "metadata": {"labels": {"a": "1"}}}
    new = {"spec": {"replicas": 2, "paused": True}, "metadata": {"labels": {"a": "2"}}}
    meta = {
        "op": "replace",
        "urn": "urn:pulumi:dev::p::kubernetes:apps/v1:Deployment::d",
        "detailedDiff": None,
    }
    meta |= {"old": {"inputs": old}, "new": {"inputs": new}, "diffs": ["spec"], "keys": ["spec"]}
    (row,) = ps.parse_preview(_event(0, resourcePreEvent={"metadata": meta})).resources
    assert row.changes == (
        ps.PropertyChange("spec.paused", "add-replace", None, True, False, True),
        ps.PropertyChange("spec.replicas", "update-replace", 1, 2, True, True),
    )


def test_markdown_escapes_table_cells():
    violation = ps.Violation("advisory", "p", "pack", "", "a | b\nc")
    preview = ps.Preview("dev", (), 0, (violation,), (), ())
    markdown = ps.render_markdown(preview)
    assert "| advisory | `p` (pack) | (stack) | a \\| b<br>c |" in markdown
    assert "No resource changes." in markdown
    assert "failed" not in markdown


# --- Real engine output ----------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "preview"
RECORDINGS = sorted(FIXTURES.glob("*.jsonl"))
DEPLOYMENT = (
    "urn:pulumi:dev::shimmy-gpu::shimmy-gpu:index:GpuInferenceService$kubernetes:apps/v1:Deployment::shimmy"
)
CONTAINER = "spec.template.spec.containers[0]"


def recorded(name: str) -> ps.Preview:
    return ps.parse_preview((FIXTURES / f"{name}.jsonl").read_text())


def engine_summary(recording: Path) -> dict[str, int]:
    (summary,) = [
        e["summaryEvent"] for e in map(json.loads, recording.read_text().splitlines()) if "summaryEvent" in e
    ]
    return summary["resourceChanges"]


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.stem)
def test_counts_agree_with_the_engines_own_summary(recording):
    preview = ps.parse_preview(recording.read_text())
    engine = engine_summary(recording)
    assert {op: n for op, n in preview.counts.items() if n} == {
        op: n for op, n in engine.items() if op != "same"
    }
    assert preview.unchanged == engine.get("same", 0)
    assert preview.stack == "dev"


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.stem)
def test_markdown_is_the_reviewed_example(recording):
    # After a deliberate change of the rendering: `python tests/fixtures/preview/capture.py --render`.
    expected = recording.with_suffix(".md").read_text()
    assert ps.render_markdown(ps.parse_preview(recording.read_text(), "dev")) == expected


def test_a_new_stack_creates_everything_and_names_no_property():
    preview = recorded("dev-new")
    assert sorted((r.op, r.type) for r in preview.resources) == [
        ("create", "docker:index/image:Image"),
        ("create", "kubernetes:apps/v1:Deployment"),
        ("create", "kubernetes:core/v1:Namespace"),
        ("create", "kubernetes:core/v1:Service"),
        ("create", "pulumi:providers:kubernetes"),
        ("create", "pulumi:pulumi:Stack"),
        ("create", "shimmy-gpu:index:GpuInferenceService"),
        ("create", "shimmy-gpu:index:ShimmyImage"),
    ]
    assert all(r.changes == () for r in preview.resources)
    assert not preview.failed


def test_updates_list_each_changed_leaf_with_old_and_new_value():
    changes = {r.type: {c.path: (c.old, c.new) for c in r.changes} for r in recorded("dev-changes").resources}
    deployment = changes["kubernetes:apps/v1:Deployment"]
    old_image, new_image = deployment.pop(f"{CONTAINER}.image")
    assert old_image.startswith("127.0.0.1:5000/shimmy-fixtures/shimmy@sha256:")
    assert new_image == ps.UNKNOWN
    assert deployment == {
        "spec.replicas": (1, 2),
        f"{CONTAINER}.args[2]": ("0.0.0.0:8081", "0.0.0.0:8090"),
        f"{CONTAINER}.ports[0].containerPort": (8081, 8090),
    }
    assert changes["kubernetes:core/v1:Service"] == {"spec.ports[0].targetPort": (8081, 8090)}
    image = changes["docker:index/image:Image"]
    assert image["imageName"] == (
        "127.0.0.1:5000/shimmy-fixtures/shimmy:1.9.0-cuda12.4.1-sm75",
        "127.0.0.1:5000/shimmy-fixtures/shimmy:1.9.0-cuda12.4.1-sm75.86",
    )
    assert image["build"][1]["args"]["CUDA_ARCHITECTURES"] == "75;86"


def test_the_digest_form_gives_the_same_resources_as_the_event_stream():
    digest = ps.parse_preview((FIXTURES / "dev-changes.digest.json").read_text())
    stream = recorded("dev-changes")
    assert sorted(digest.resources, key=lambda r: r.urn) == sorted(stream.resources, key=lambda r: r.urn)
    assert (digest.unchanged, digest.violations) == (stream.unchanged, ())


def test_a_refused_workload_fails_and_the_violation_says_what_and_how_to_fix():
    preview = recorded("dev-refused")
    assert preview.failed
    mandatory = [(v.policy, v.urn) for v in preview.violations if v.level == "mandatory"]
    assert sorted({policy for policy, _ in mandatory}) == ["cuda-image", "gpu-backend-flag"]
    (backend,) = [v for v in preview.violations if v.policy == "gpu-backend-flag"]
    assert (backend.level, backend.pack, backend.urn) == ("mandatory", "shimmy-gpu", DEPLOYMENT)
    assert "--gpu-backend cpu never uses the GPU" in backend.message
    assert "Fix: use `--gpu-backend cuda`" in backend.message
    (workload,) = [r for r in preview.resources if r.urn == DEPLOYMENT]
    assert ps.PropertyChange(f"{CONTAINER}.args[4]", "update", "cuda", "cpu", True, True) in workload.changes
    markdown = ps.render_markdown(preview)
    assert "**The preview failed: 4 mandatory policy violations.**" in markdown
    assert (
        "| mandatory | `gpu-backend-flag` (shimmy-gpu) | `shimmy` (`kubernetes:apps/v1:Deployment`) |"
        in markdown
    )


def test_a_replacement_is_one_row_and_removed_resources_are_deletes():
    replaced = recorded("dev-replace")
    assert [(r.op, r.type) for r in replaced.resources] == [("replace", "kubernetes:core/v1:Service")]
    removed = recorded("dev-removed").resources
    assert {r.op for r in removed} == {"delete"}
    assert {r.name for r in removed} == {"verify-gpu"}
    assert "kubernetes:batch/v1:Job" in {r.type for r in removed}


def test_preview_sh_keeps_the_output_and_exits_with_pulumis_status(tmp_path):
    # The real CLI on an empty backend: the stack does not exist, and only stderr says so.
    (tmp_path / "state").mkdir()
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "test",
        "PREVIEW_DIR": str(tmp_path / "out"),
    }
    run = subprocess.run(
        ["bash", "scripts/preview.sh", "dev"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode != 0
    summary = (tmp_path / "out" / "dev.md").read_text()
    assert run.stdout == summary
    assert "- error: no stack named 'dev' found" in summary
    assert "error: no stack named 'dev' found" in (tmp_path / "out" / "dev.log").read_text()
