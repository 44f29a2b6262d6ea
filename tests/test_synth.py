"""The synthesized stacks: complete list, snapshots, determinism, remote state and identity tags."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from constructs_lib._common.tags import IDENTITY_TAG_KEYS
from stacks.catalog import PREBUILT_PROVIDERS
from synth_speed import kernel_channel, packed_packages
from tests.conftest import REPO

ENVIRONMENTS = ("dev", "prod", "staging")
CLOUDS = ("aws", "gcp", "alicloud")
GATEWAY_STACKS = [f"{cloud}-{env}" for cloud in CLOUDS for env in ENVIRONMENTS]
BOOTSTRAP_STACKS = [f"{cloud}-bootstrap" for cloud in CLOUDS]
QUOTAS_STACKS = [f"{stack}-quotas" for stack in GATEWAY_STACKS]
ALL_STACKS = GATEWAY_STACKS + BOOTSTRAP_STACKS + QUOTAS_STACKS


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_gateway_bootstrap_and_quotas_stack_is_synthesized(synthesized):
    assert set(synthesized) == set(ALL_STACKS)


def test_stack_list_matches_what_is_synthesized(synthesized):
    listed = json.loads(
        subprocess.run(
            [sys.executable, "main.py", "--list-stacks"], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout
    )
    assert sorted(stack["name"] for stack in listed) == sorted(synthesized)
    kinds = {stack["name"]: stack["kind"] for stack in listed}
    assert {kinds[name] for name in BOOTSTRAP_STACKS} == {"bootstrap"}
    assert {kinds[name] for name in GATEWAY_STACKS} == {"gateway"}
    assert {kinds[name] for name in QUOTAS_STACKS} == {"quotas"}


@pytest.mark.parametrize("stack", sorted(ALL_STACKS))
def test_stack_snapshot(stack, synthesized, snapshot_json):
    """Reviewed golden output per stack; update deliberately with `pytest --snapshot-update`."""
    assert synthesized[stack] == snapshot_json


def test_synthesis_is_deterministic_across_processes_and_paths(synth_dir, separate_process_synth):
    """A separate `main.py` run (per-cloud parallel processes, config copied elsewhere, canaries in the environment)
    writes byte-identical files to the in-process run."""
    assert separate_process_synth.result.returncode == 0, separate_process_synth.result.stderr
    outdir = separate_process_synth.outdir
    first = sorted(path.relative_to(synth_dir) for path in synth_dir.rglob("*") if path.is_file())
    second = sorted(path.relative_to(outdir) for path in outdir.rglob("*") if path.is_file())
    assert first == second
    for relative in first:
        assert (synth_dir / relative).read_bytes() == (outdir / relative).read_bytes(), f"{relative} differs"


def _backend(stack_json: dict) -> tuple[str, dict]:
    backends = stack_json["terraform"].get("backend", {})
    assert len(backends) <= 1
    return next(iter(backends.items()), ("local", {}))


@pytest.mark.parametrize("stack", GATEWAY_STACKS + QUOTAS_STACKS)
def test_remote_stacks_keep_encrypted_remote_state_under_their_own_key(stack, synthesized):
    kind, settings = _backend(synthesized[stack])
    cloud = stack.split("-")[0]
    if cloud == "aws":
        assert kind == "s3"
        assert settings["encrypt"] is True
        assert settings["key"] == f"{stack}/terraform.tfstate"
        assert settings.get("use_lockfile") is True or settings.get("dynamodb_table")
    elif cloud == "gcp":
        assert (kind, settings["prefix"]) == ("gcs", stack)
    else:
        assert kind == "oss"
        assert settings["prefix"] == stack and settings["encrypt"] is True
        assert settings["tablestore_table"] and settings["tablestore_endpoint"].startswith("https://")


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_bootstrap_stacks_use_local_state(stack, synthesized):
    assert _backend(synthesized[stack])[0] == "local"


def _expected_identity(stack: str) -> dict[str, str]:
    env = "shared" if stack.endswith("-bootstrap") else stack.split("-")[1]
    return {"tenant": "acme", "environment": env, "litellm-stack": stack, "managed-by": "llm-gateway-cdktf"}


def _assert_identity(tags: dict[str, str], stack: str, where: str) -> None:
    identity = {key: tags.get(key) for key in IDENTITY_TAG_KEYS}
    assert identity == _expected_identity(stack), f"{stack}: {where} lacks the stack identity"
    assert tags.get("cost-center") == "platform-ai", f"{stack}: {where} lacks the config's extra tags"


@pytest.mark.parametrize("stack", sorted(ALL_STACKS))
def test_every_taggable_resource_carries_the_stack_identity(stack, synthesized):
    from tests.taggable import resource_tags_mechanism

    stack_json = synthesized[stack]
    cloud = stack.split("-")[0]
    provider_block = stack_json["provider"][{"aws": "aws", "gcp": "google", "alicloud": "alicloud"}[cloud]][0]
    if cloud == "aws":
        _assert_identity(provider_block["default_tags"][0]["tags"], stack, "provider default_tags")
    elif cloud == "gcp":
        _assert_identity(provider_block["default_labels"], stack, "provider default_labels")
    checked = 0
    for resource_type, resources in stack_json.get("resource", {}).items():
        mechanism = resource_tags_mechanism(resource_type)
        for name, body in resources.items():
            if mechanism == "provider-default":
                # Tags set on the resource merge with default_tags/default_labels; they must not fight them.
                own = body.get("tags") or body.get("labels") or {}
                assert not set(own) & set(IDENTITY_TAG_KEYS), f"{resource_type}.{name} overrides identity tags"
                checked += 1
            elif mechanism == "resource":
                _assert_identity(body.get("tags", {}), stack, f"{resource_type}.{name}")
                checked += 1
    if stack_json.get("resource"):
        assert checked, f"{stack}: no taggable resource found; the tag test would prove nothing"


def test_output_is_independent_of_the_checkout_location(synth_dir):
    """No absolute path of this machine in any stack: the same config gives the same bytes in any clone."""
    for path in (synth_dir / "stacks").glob("*/cdk.tf.json"):
        text = path.read_text()
        assert str(REPO) not in text and str(synth_dir) not in text, f"{path.parent.name} embeds a local path"


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
def test_bootstrap_state_lives_outside_the_synth_output(stack, synthesized):
    """`make synth` replaces cdktf.out wholesale: local state must sit in the project root instead."""
    path = synthesized[stack]["terraform"]["backend"]["local"]["path"]
    assert path == f"../../../terraform.{stack}.tfstate"


def test_the_session_synth_loaded_packed_entries_of_the_big_providers(synth_dir):
    """docs/DESIGN.md, step 10 (tests/test_packed_packages.py tests the entries themselves)."""
    root = kernel_channel._package_root
    assert root is not None, "the suite runs the default path"
    built_clouds = {path.name.split("-", 1)[0] for path in (synth_dir / "stacks").iterdir()}
    for cloud in built_clouds:
        for python_package in PREBUILT_PROVIDERS[cloud]:
            entry = packed_packages.entry_path(root, *packed_packages.assembly_of(python_package))
            assert (entry / packed_packages.MARKER_FILE).is_file(), python_package
            assert sorted(path.name for path in (entry / "lib").glob("**/*.js")) == ["index.js", "lazy-index.js"]
            assert (entry / ".jsii.runtime.v1.json").is_file()


@pytest.mark.parametrize("python_package", ["constructs", "cdktf", "cdktf_cdktf_provider_random"])
def test_the_kernel_keeps_the_other_packages_where_entry_path_says(synth_dir, python_package):
    """The kernel extracted these itself, into the same root: its key (scoped names too) and marker are ours."""
    name, version, tarball = packed_packages.assembly_of(python_package)
    entry = packed_packages.entry_path(kernel_channel._package_root, name, version, tarball)
    assert (entry / packed_packages.MARKER_FILE).is_file()
    with tarfile.open(tarball, "r:gz") as archive:
        files = {member.name.split("/", 1)[1] for member in archive if member.isfile()}
    assert files <= {path.relative_to(entry).as_posix() for path in entry.rglob("*") if path.is_file()}
