"""`make drill`: every synthesized stack applies offline from empty state, plans no changes, destroys to empty state.

The stacks are synthesized from the shipped example configuration (the `synth_dir` session fixture) and driven by
tools/offline_apply/drill.py against the stand-in providers with the real Terraform. The quotas stacks register
their agents' keys with the real LiteLLM, one instance per cloud (each cloud runs its own gateway, and the three
clouds' quotas stacks register the same aliases: `<env>-<agent>-v<key>-m<master>`). Results are
written as a Markdown table to `.cache/offline-drill/results.md` (docs/OFFLINE_PLAN.md holds the last one).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from pathlib import Path

import pytest

from constructs_lib.config import load_all
from stacks.catalog import stack_specs
from tests.conftest import start_litellm_live
from tools.offline_apply import OfflineApply
from tools.offline_apply.drill import StackDrill, run_drill, table

pytestmark = pytest.mark.drill

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / ".cache" / "offline-drill" / "results.md"
KINDS = {spec.name: spec.context.kind for spec in stack_specs(load_all(REPO / "config"))}


@pytest.fixture(scope="module")
def drill(synth_dir, tmp_path_factory) -> dict[str, StackDrill]:
    master_key = "sk-master-" + secrets.token_hex(16)
    env = {"LITELLM_API_KEY": master_key, "TF_VAR_litellm_api_key": master_key}
    quotas = sorted((synth_dir / "stacks").glob("*-quotas/cdk.tf.json"))
    clouds = sorted({path.parent.name.split("-", 1)[0] for path in quotas})
    with contextlib.ExitStack() as stack:
        live = {
            cloud: stack.enter_context(start_litellm_live(tmp_path_factory.mktemp(f"litellm-{cloud}"), master_key))
            for cloud in clouds
        }
        url_map = {
            block["api_base"]: live[path.parent.name.split("-", 1)[0]].base_url
            for path in quotas
            for block in json.loads(path.read_text()).get("provider", {}).get("litellm", [])
        }
        started = time.monotonic()
        with OfflineApply(out_dir=synth_dir, work_dir=tmp_path_factory.mktemp("drill"), env=env, url_map=url_map) as h:
            results = run_drill(h, KINDS, litellm_available=True)
        elapsed = time.monotonic() - started
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"{table(results)}\n\nDrill wall time: {elapsed:.0f} s\n")
    print(f"\n{table(results)}\nDrill wall time: {elapsed:.0f} s")
    return {result.name: result for result in results}


def test_the_drill_covers_every_synthesized_stack(drill, synth_dir):
    assert sorted(drill) == sorted(path.parent.name for path in (synth_dir / "stacks").glob("*/cdk.tf.json"))


@pytest.mark.parametrize("stack", sorted(KINDS))
def test_stack_applies_replans_empty_and_destroys(drill, stack):
    result = drill[stack]
    assert result.blocked is None, f"{stack}: blocked: {result.blocked}\n{result.error}"
    assert result.applied, f"{stack}: apply failed:\n{result.error}"
    assert result.replan == [], f"{stack}: perpetual diff after apply: {result.replan}"
    assert result.destroyed and result.left == [], f"{stack}: destroy left {result.left}:\n{result.error}"
