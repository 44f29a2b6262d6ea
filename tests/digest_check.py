"""Runs a container's proxy-config digest check for real, as the image would: shared by the AWS and GCP tests."""

from __future__ import annotations

import subprocess
from pathlib import Path


def assert_digest_check_passes_then_refuses(check: str, env: dict[str, str], deployed: Path, content: str) -> None:
    """`check` passes with the deployed document in `deployed`, and refuses it (exit 1, one message) once one
    setting in it changes."""
    deployed.write_text(content)
    passed = subprocess.run(["sh", "-c", check], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert passed.returncode == 0, passed.stderr
    changed = content.replace("drop_params: true", "drop_params: false")
    assert changed != content, "the document has no setting to change"
    deployed.write_text(changed)
    refused = subprocess.run(["sh", "-c", check], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert refused.returncode == 1
    assert "proxy config digest mismatch" in refused.stderr
