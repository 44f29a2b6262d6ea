"""The pipeline simulator's own rules: the expression evaluator fails closed, artifacts keep the actions' layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workflow_sim.artifacts import ArtifactError, ArtifactStore
from tests.workflow_sim.expressions import ExpressionError, Status, condition, evaluate, render

CONTEXTS = {
    "needs": {"a": {"result": "success"}, "b": {"result": "skipped"}},
    "github": {"ref": "refs/heads/main", "event": {"before": "abc"}},
    "inputs": {"stacks": '[{"name": "aws-dev"}]', "flag": False},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("needs.*.result", ["success", "skipped"]),
        ("contains(needs.*.result, 'failure')", False),
        ("contains(needs.*.result, 'SKIPPED')", True),  # strings compare case-insensitively
        ("github.ref == 'REFS/HEADS/MAIN'", True),
        ("github.missing == null", True),  # a missing property is null
        ("fromJSON(inputs.stacks)[0].name", "aws-dev"),
        ("inputs.flag == true", False),
        ("'' || 'fallback'", "fallback"),  # || and && return an operand
        ("github.ref && 'yes'", "yes"),
        ("format('deploy-{0}-{1}', 'aws-dev', 1)", "deploy-aws-dev-1"),
        ("1 == '1'", True),  # different types compare as numbers
        ("!startsWith(github.ref, 'refs/pull/')", True),
    ],
)
def test_expressions_follow_githubs_rules(expression, expected):
    assert evaluate(expression, CONTEXTS) == expected


@pytest.mark.parametrize(
    "expression",
    ["hashFiles('x')", "secrets.TOKEN", "github.ref =~ 'x'", "toLower('X')", "success()"],
)
def test_anything_unknown_stops_the_simulation(expression):
    with pytest.raises(ExpressionError):
        evaluate(expression, CONTEXTS)


def test_conditions_default_to_success_and_status_functions_override_it():
    failed = Status(success=False, failure=True)
    assert not condition(None, CONTEXTS, failed)
    assert not condition("github.ref == 'refs/heads/main'", CONTEXTS, failed)  # success() && (…)
    assert condition("${{ !cancelled() && github.ref == 'refs/heads/main' }}", CONTEXTS, failed)
    assert condition("failure()", CONTEXTS, failed)


def test_render_keeps_the_type_of_a_lone_expression_and_interpolates_text():
    assert render("${{ fromJSON(inputs.stacks) }}", CONTEXTS) == [{"name": "aws-dev"}]
    assert render("plan (${{ github.ref }}) of ${{ github.event.before }}", CONTEXTS) == "plan (refs/heads/main) of abc"


def _tree(root: Path, files: list[str]) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def test_upload_of_a_directory_keeps_its_layout_and_leaves_hidden_files_out_by_default(tmp_path):
    files = ["out/s/cdk.tf.json", "out/s/assets/h/script.py", "out/s/.terraform.lock.hcl", "out/s/.terraform/p/bin"]
    workspace = _tree(tmp_path / "ws", files)
    store = ArtifactStore()
    assert sorted(store.upload(workspace, {"name": "a", "path": "out/s/"})) == ["assets/h/script.py", "cdk.tf.json"]
    with_hidden = store.upload(
        workspace, {"name": "b", "path": "out/s/\n!out/s/.terraform/", "include-hidden-files": "true"}
    )
    assert sorted(with_hidden) == [".terraform.lock.hcl", "assets/h/script.py", "cdk.tf.json"]
    store.download(tmp_path / "apply", {"name": "b", "path": "out/s"})
    assert (tmp_path / "apply" / "out" / "s" / "assets" / "h" / "script.py").read_text() == "out/s/assets/h/script.py"


def test_several_paths_are_stored_below_their_common_ancestor_and_one_file_by_its_name(tmp_path):
    workspace = _tree(tmp_path, ["out/s/cdk.tf.json", "out/s/tfplan", "out/t/x"])
    store = ArtifactStore()
    assert sorted(store.upload(workspace, {"name": "a", "path": "out/s/cdk.tf.json\nout/s/tfplan"})) == [
        "cdk.tf.json",
        "tfplan",
    ]
    assert list(store.upload(workspace, {"name": "b", "path": "out/s/tfplan"})) == ["tfplan"]
    assert sorted(store.upload(workspace, {"name": "c", "path": "out/s/tfplan\nout/t/x"})) == ["s/tfplan", "t/x"]


def test_a_second_upload_of_a_name_and_a_missing_download_fail(tmp_path):
    workspace = _tree(tmp_path, ["f"])
    store = ArtifactStore()
    store.upload(workspace, {"name": "a", "path": "f"})
    with pytest.raises(ArtifactError, match="already exists"):
        store.upload(workspace, {"name": "a", "path": "f"})
    with pytest.raises(ArtifactError, match="not found"):
        store.download(workspace, {"name": "b"})
    with pytest.raises(ArtifactError, match="no files"):
        store.upload(workspace, {"name": "c", "path": "missing", "if-no-files-found": "error"})
