"""Rotation: bumping a provider key's `version` rolls the gateway onto it, and touches nothing agent-side."""

from __future__ import annotations

import json

import cdktf
import pytest
from cdktf import App

from constructs_lib.config import load_environment
from stacks.catalog import stack_class, stack_name
from stacks.context import StackContext
from tests.conftest import CONFIG_DIR

GATEWAY_URL = "https://gateway.internal.test"


def _stack_json(cloud: str, kind: str, config) -> dict:
    context = StackContext(stack_name(cloud, kind, config.env), cloud, kind, CONFIG_DIR / "dev.yaml", config)
    extra = {"gateway_url": GATEWAY_URL} if kind == "quotas" else {}
    return json.loads(cdktf.Testing.synth(stack_class(cloud, kind)(App(), context, **extra)))


def _bump(config, key_name: str):
    keys = [
        key.model_copy(update={"version": key.version + 1}) if key.name == key_name else key
        for key in config.provider_keys
    ]
    return config.model_copy(update={"provider_keys": keys})


def _changed(before: dict, after: dict) -> list[tuple[str, str]]:
    return sorted(
        (kind, name)
        for kind in before.get("resource", {}).keys() | after.get("resource", {}).keys()
        for name in before.get("resource", {}).get(kind, {}).keys() | after.get("resource", {}).get(kind, {}).keys()
        if before["resource"].get(kind, {}).get(name) != after["resource"].get(kind, {}).get(name)
    )


@pytest.fixture(scope="module")
def dev():
    return load_environment(CONFIG_DIR / "dev.yaml")


def test_gcp_version_bump_creates_a_new_gateway_revision_pinned_to_the_new_version(dev):
    before, after = _stack_json("gcp", "gateway", dev), _stack_json("gcp", "gateway", _bump(dev, "openai"))
    changed = _changed(before, after)
    assert changed and {kind for kind, _ in changed} == {"google_cloud_run_v2_service"}, changed
    text_before, text_after = json.dumps(before), json.dumps(after)
    assert "OPENAI_API_KEY" in text_after
    service = next(body for kind, name in changed for body in [after["resource"][kind][name]])
    refs = [
        env["value_source"]["secret_key_ref"]
        for container in service["template"]["containers"]
        for env in container.get("env", [])
        if env["name"] == "OPENAI_API_KEY"
    ]
    assert refs and all(ref["version"] == "2" for ref in refs)
    assert text_before != text_after


@pytest.mark.parametrize("cloud", ["aws", "gcp", "alicloud"])
def test_a_provider_key_bump_changes_nothing_agent_side(cloud, dev):
    """Agents hold only their virtual keys: the quotas stack does not depend on provider keys at all."""
    assert _changed(_stack_json(cloud, "quotas", dev), _stack_json(cloud, "quotas", _bump(dev, "openai"))) == []
