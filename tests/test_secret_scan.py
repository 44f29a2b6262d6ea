"""The secret scan (detect-secrets against `.secrets.baseline`) runs in `make test`: over every file git would
commit and over the synthesized stacks, and it bites on a deliberate leak.

The stack snapshots under tests/__snapshots__ are left to the synthesized copy: test_synth asserts they are equal
to it, so scanning both would only pay twice for the same bytes.
"""

from __future__ import annotations

import json
import os
import secrets

from tests.conftest import REPO
from tools.lint.secret_scan import new_findings, repository_files

SNAPSHOTS = "tests/__snapshots__/"
JOBS = os.cpu_count() or 1


def test_repository_and_synthesized_stacks_have_no_findings_beyond_the_baseline(synth_dir):
    files = [name for name in repository_files(REPO) if not name.startswith(("cdktf.out/", SNAPSHOTS))]
    synthesized = sorted(str(path) for path in synth_dir.rglob("*") if path.is_file())
    assert any(name.endswith("cdk.tf.json") for name in synthesized)
    assert new_findings([*files, *synthesized], REPO, jobs=JOBS) == []


def test_the_scan_bites_on_a_key_written_into_a_stack(synth_dir, tmp_path):
    """A provider key that reached a synthesized stack (the leak this project exists to prevent) is found."""
    stack = json.loads(next(synth_dir.glob("stacks/*/cdk.tf.json")).read_text())
    # Made up at run time: no key-like literal sits in this file for the repository scan to find.
    made_up = "sk-proj-" + secrets.token_urlsafe(36)
    stack.setdefault("locals", {})["openai_api_key"] = made_up
    leaked = tmp_path / "cdk.tf.json"
    leaked.write_text(json.dumps(stack, indent=2))
    clean = tmp_path / "clean.tf.json"
    clean.write_text(next(synth_dir.glob("stacks/*/cdk.tf.json")).read_text())
    findings = new_findings([str(leaked), str(clean)], REPO, jobs=2)
    # detect-secrets names files relative to the scan root; only the leaked copy has findings, on the key's line.
    flagged = {(REPO / finding.split(":")[0]).resolve() for finding in findings}
    assert flagged == {leaked.resolve()}, findings
    line = next(number for number, text in enumerate(leaked.read_text().splitlines(), 1) if made_up in text)
    assert {int(finding.split(":")[1]) for finding in findings} == {line}
