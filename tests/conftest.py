"""Shared fixtures: one in-process synthesis of every stack from the shipped example configuration."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")

import constructs_lib  # noqa: F401  (lean provider imports before any test imports a provider class)

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "config"


@pytest.fixture(scope="session")
def example_environments():
    from constructs_lib.config import load_all

    return load_all(CONFIG_DIR)


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory, example_environments) -> Path:
    """cdktf.out of every stack, synthesized once per test session through main.synthesize.

    `STACKS=aws-dev,aws-bootstrap pytest -k aws` narrows it while iterating on one cloud (tests of other
    stacks then fail loudly; the full suite runs with STACKS unset).
    """
    import main
    from stacks.catalog import stack_specs

    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    # In this process (jobs=1); test_synth compares it with the default per-cloud parallel path.
    main.synthesize(main.select(stack_specs(example_environments), os.environ.get("STACKS", "")), outdir, jobs=1)
    return outdir


@pytest.fixture(scope="session")
def synthesized(synth_dir) -> dict[str, dict]:
    """Stack name -> parsed cdk.tf.json."""
    return {
        path.parent.name: json.loads(path.read_text()) for path in sorted((synth_dir / "stacks").glob("*/cdk.tf.json"))
    }
