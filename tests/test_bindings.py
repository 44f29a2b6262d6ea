"""The generated alicloud and litellm bindings: drift, argument checks, references and synthesis."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import cdktf
import pytest

from imports import _runtime as _rt
from imports.alicloud.alb_load_balancer import (
    AlbLoadBalancer,
    AlbLoadBalancerLoadBalancerBillingConfig,
    AlbLoadBalancerZoneMappings,
)
from imports.alicloud.data_alicloud_zones import DataAlicloudZones
from imports.alicloud.kms_secret import KmsSecret
from imports.alicloud.oss_bucket import OssBucketLifecycleRuleFilter, OssBucketLifecycleRuleFilterNot
from imports.alicloud.provider import AlicloudProvider, AlicloudProviderAssumeRole
from imports.alicloud.snat_entry import SnatEntry
from imports.alicloud.vpc import Vpc, VpcTimeouts
from imports.alicloud.vswitch import Vswitch
from imports.litellm.key import Key
from imports.litellm.provider import LitellmProvider
from tools.bindings.__main__ import IMPORTS, SCHEMAS, generate, schema_files

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def stack() -> cdktf.TerraformStack:
    return cdktf.TerraformStack(cdktf.App(), "bindings")


def _synth(stack: cdktf.TerraformStack) -> dict:
    return json.loads(cdktf.Testing.synth(stack))


def _zone(suffix: str, vswitch_id: str = "vsw-1") -> AlbLoadBalancerZoneMappings:
    return AlbLoadBalancerZoneMappings(vswitch_id=vswitch_id, zone_id=f"cn-hangzhou-{suffix}")


def _alb(stack: cdktf.TerraformStack, **overrides: object) -> AlbLoadBalancer:
    args: dict[str, object] = {
        "vpc_id": "vpc-1",
        "address_type": "Intranet",
        "load_balancer_edition": "Standard",
        "load_balancer_billing_config": AlbLoadBalancerLoadBalancerBillingConfig(pay_type="PayAsYouGo"),
        "zone_mappings": [_zone("a"), _zone("b")],
    }
    args.update(overrides)
    return AlbLoadBalancer(stack, "alb", **args)  # type: ignore[arg-type]


# -- drift and schema files ------------------------------------------------------------------


def test_checked_in_bindings_match_the_generator(tmp_path: Path) -> None:
    generated = {path.relative_to(tmp_path): text for path, text in generate(tmp_path).items()}
    checked_in = {
        path.relative_to(IMPORTS): path.read_text(encoding="utf-8")
        for pattern in ("*.py", "alicloud/*.py", "litellm/*.py")
        for path in IMPORTS.glob(pattern)
    }
    assert sorted(generated) == sorted(checked_in), "run `make bindings`"
    stale = [str(path) for path, text in generated.items() if checked_in[path] != text]
    assert stale == [], f"generated files differ from the checked-in ones, run `make bindings`: {stale}"


def _valid_cty(cty: object) -> bool:
    if cty in ("string", "number", "bool", "dynamic"):
        return True
    if isinstance(cty, list) and len(cty) == 2 and cty[0] in ("list", "set", "map"):
        return _valid_cty(cty[1])
    if isinstance(cty, list) and len(cty) == 2 and cty[0] == "object" and isinstance(cty[1], dict):
        return all(_valid_cty(member) for member in cty[1].values())
    return False


def _check_block(block: dict, where: str) -> None:
    assert block["description_kind"] == "plain", where
    for name, attr in block.get("attributes", {}).items():
        assert _valid_cty(attr["type"]), f"{where}.{name}: {attr['type']}"
        flags = [flag for flag in ("required", "optional", "computed") if attr.get(flag)]
        assert flags in (["required"], ["optional"], ["computed"], ["optional", "computed"]), f"{where}.{name}"
        assert all(
            value is True for key, value in attr.items() if key not in ("type", "description", "description_kind")
        )
    for name, nested in block.get("block_types", {}).items():
        assert nested["nesting_mode"] in ("list", "set", "single"), f"{where}.{name}"
        _check_block(nested["block"], f"{where}.{name}")


@pytest.mark.parametrize("schema_path", schema_files(), ids=lambda p: p.name)
def test_schema_files_are_valid_and_fully_sourced(schema_path: Path) -> None:
    document = json.loads(schema_path.read_text(encoding="utf-8"))
    assert document["format_version"] == "1.0"
    ((address, provider),) = document["provider_schemas"].items()
    provenance = json.loads(schema_path.with_name(schema_path.stem + ".provenance.json").read_text(encoding="utf-8"))
    assert address == f"registry.terraform.io/{provenance['provider'].lower()}"
    assert re.fullmatch(r"[0-9a-f]{40}", provenance["commit"])
    _check_block(provider["provider"]["block"], "provider")
    for key in ("resource_schemas", "data_source_schemas"):
        assert sorted(provider[key]) == sorted(provenance[key]), key
        for name, schema in provider[key].items():
            assert isinstance(schema["version"], int)
            assert schema["block"]["attributes"]["id"]["type"] == "string", name
            _check_block(schema["block"], name)
            files = provenance[key][name]["files"]
            assert files, name
            assert all(re.fullmatch(r"[0-9a-f]{40}", f["blob"]) for f in files), name
    assert schema_path.read_text(encoding="utf-8") == json.dumps(document, indent=2, sort_keys=True) + "\n"


def test_schema_directory_holds_both_pinned_providers() -> None:
    assert [p.name for p in schema_files(SCHEMAS)] == ["alicloud@1.289.0.json", "litellm@0.4.0.json"]


# -- argument checks ---------------------------------------------------------------------------


def test_unknown_argument_is_rejected_by_name(stack: cdktf.TerraformStack) -> None:
    with pytest.raises(TypeError, match=r"Vpc\.__init__\(\) got an unexpected keyword argument 'cidr_blok'"):
        Vpc(stack, "vpc", cidr_blok="10.0.0.0/8")  # type: ignore[call-arg]


def test_missing_required_argument_is_rejected_by_name(stack: cdktf.TerraformStack) -> None:
    with pytest.raises(TypeError, match=r"SnatEntry\.__init__\(\) missing 1 required keyword-only argument: 'snat_ip'"):
        SnatEntry(stack, "snat", snat_table_id="stb-1")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"KmsSecret: argument 'secret_data' is required"):
        KmsSecret(stack, "secret", secret_name="n", secret_data=None, version_id="v1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda s: Vpc(s, "v", cidr_block=10), r"Vpc: argument 'cidr_block' expects string, got int 10"),
        (lambda s: Vpc(s, "v", enable_ipv6="yes"), r"Vpc: argument 'enable_ipv6' expects bool, got str"),
        (lambda s: Vpc(s, "v", tags={"team": 1}), r"Vpc: argument \"tags\['team'\]\" expects string, got int"),
        (lambda s: Vpc(s, "v", user_cidrs="10.0.0.0/8"), r"Vpc: argument 'user_cidrs' expects list\(string\)"),
        (lambda s: Key(s, "k", rpm_limit=True), r"Key: argument 'rpm_limit' expects number, got bool"),
        (
            lambda s: Key(s, "k", model_max_budget={"m": "1"}),
            r"Key: argument \"model_max_budget\['m'\]\" expects number",
        ),
    ],
)
def test_wrong_types_are_rejected_naming_class_and_argument(stack: cdktf.TerraformStack, build, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        build(stack)


def test_tokens_are_accepted_wherever_a_value_is(stack: cdktf.TerraformStack) -> None:
    vpc = Vpc(stack, "vpc", cidr_block="10.0.0.0/8")
    Vpc(
        stack,
        "other",
        enable_ipv6=vpc.enable_ipv6,
        ipv4_cidr_mask=vpc.ipv4_cidr_mask,
        user_cidrs=vpc.user_cidrs,
        cidr_block=cdktf.Fn.cidrsubnet(vpc.cidr_block, 8, 1),
    )
    resource = _synth(stack)["resource"]["alicloud_vpc"]["other"]
    assert resource["enable_ipv6"] == "${alicloud_vpc.vpc.enable_ipv6}"
    assert resource["ipv4_cidr_mask"] == "${alicloud_vpc.vpc.ipv4_cidr_mask}"
    assert resource["cidr_block"] == "${cidrsubnet(alicloud_vpc.vpc.cidr_block, 8, 1)}"


# -- nested blocks -----------------------------------------------------------------------------


def test_nested_blocks_are_typed_frozen_dataclasses(stack: cdktf.TerraformStack) -> None:
    zone = _zone("a")
    with pytest.raises(AttributeError):
        zone.zone_id = "elsewhere"  # type: ignore[misc]
    with pytest.raises(
        TypeError,
        match=r"AlbLoadBalancerZoneMappings\.__init__\(\) missing 1 required keyword-only argument: 'zone_id'",
    ):
        AlbLoadBalancerZoneMappings(vswitch_id="vsw-1")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"AlbLoadBalancerZoneMappings: argument 'zone_id' expects string, got int"):
        AlbLoadBalancerZoneMappings(vswitch_id="vsw-1", zone_id=3)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"AlbLoadBalancer: argument 'zone_mappings'\[0\] expects AlbLoadBalancerZoneMappings, got dict"
    ):
        _alb(stack, zone_mappings=[{"vswitch_id": "vsw-1", "zone_id": "cn-hangzhou-a"}])

    keyword_escaped = OssBucketLifecycleRuleFilter(not_=OssBucketLifecycleRuleFilterNot(prefix="tmp/"))
    assert _rt.to_terraform(keyword_escaped) == {"not": [{"prefix": "tmp/"}]}


def test_block_item_limits_are_enforced_for_literal_values(stack: cdktf.TerraformStack) -> None:
    with pytest.raises(TypeError, match=r"AlbLoadBalancer: argument 'zone_mappings' is required"):
        _alb(stack, zone_mappings=None)
    with pytest.raises(ValueError, match=r"AlbLoadBalancer: argument 'load_balancer_billing_config' takes 1\.\.1 "):
        _alb(
            stack,
            load_balancer_billing_config=[
                AlbLoadBalancerLoadBalancerBillingConfig(pay_type="PayAsYouGo"),
                AlbLoadBalancerLoadBalancerBillingConfig(pay_type="PayAsYouGo"),
            ],
        )
    with pytest.raises(ValueError, match=r"argument 'zone_mappings' takes at least 1 AlbLoadBalancerZoneMappings"):
        _alb(stack, zone_mappings=[])


# -- references, synthesis, escape hatches ----------------------------------------------------


def test_attribute_getters_return_references(stack: cdktf.TerraformStack) -> None:
    vpc = Vpc(stack, "network", cidr_block="10.0.0.0/8")
    assert cdktf.Token.is_unresolved(vpc.id)
    Vswitch(stack, "vsw", vpc_id=vpc.id, description=vpc.route_table_id, tags=vpc.tags)
    vswitch = _synth(stack)["resource"]["alicloud_vswitch"]["vsw"]
    assert vswitch == {
        "vpc_id": "${alicloud_vpc.network.id}",
        "description": "${alicloud_vpc.network.route_table_id}",
        "tags": "${alicloud_vpc.network.tags}",
    }
    assert Key.TF_RESOURCE_TYPE == "litellm_key"
    assert not hasattr(Key, "key"), "a write-only attribute has no readable reference"
    assert "write-only" in (Key.__doc__ or "")
    assert "sensitive" in (KmsSecret.__doc__ or "")


def test_stack_synthesizes_the_expected_terraform_json(stack: cdktf.TerraformStack) -> None:
    provider = AlicloudProvider(
        stack,
        "alicloud",
        region="cn-hangzhou",
        assume_role=AlicloudProviderAssumeRole(role_arn="acs:ram::123456789:role/deployer", session_name="cdktf"),
    )
    zones = DataAlicloudZones(stack, "zones", available_resource_creation="VSwitch")
    vpc = Vpc(
        stack,
        "vpc",
        vpc_name="gw",
        cidr_block="10.0.0.0/8",
        tags={"b": "2", "a": "1"},
        timeouts=VpcTimeouts(create="10m"),
        provider=provider,
    )
    vsw = Vswitch(
        stack,
        "vsw",
        vpc_id=vpc.id,
        cidr_block="10.1.0.0/24",
        zone_id=cdktf.Fn.lookup(cdktf.Fn.element(zones.zones, 0), "id"),
    )
    _alb(stack, vpc_id=vpc.id, zone_mappings=[_zone("a", vsw.id), _zone("b", vsw.id)])
    assert _synth(stack) == {
        "data": {"alicloud_zones": {"zones": {"available_resource_creation": "VSwitch"}}},
        "provider": {
            "alicloud": [
                {
                    "assume_role": [{"role_arn": "acs:ram::123456789:role/deployer", "session_name": "cdktf"}],
                    "region": "cn-hangzhou",
                }
            ]
        },
        "resource": {
            "alicloud_alb_load_balancer": {
                "alb": {
                    "address_type": "Intranet",
                    "load_balancer_billing_config": [{"pay_type": "PayAsYouGo"}],
                    "load_balancer_edition": "Standard",
                    "vpc_id": "${alicloud_vpc.vpc.id}",
                    "zone_mappings": [
                        {"vswitch_id": "${alicloud_vswitch.vsw.id}", "zone_id": "cn-hangzhou-a"},
                        {"vswitch_id": "${alicloud_vswitch.vsw.id}", "zone_id": "cn-hangzhou-b"},
                    ],
                }
            },
            "alicloud_vpc": {
                "vpc": {
                    "cidr_block": "10.0.0.0/8",
                    "provider": "alicloud",
                    "tags": {"a": "1", "b": "2"},
                    "timeouts": {"create": "10m"},
                    "vpc_name": "gw",
                }
            },
            "alicloud_vswitch": {
                "vsw": {
                    "cidr_block": "10.1.0.0/24",
                    "vpc_id": "${alicloud_vpc.vpc.id}",
                    "zone_id": "${element(data.alicloud_zones.zones.zones, 0).id}",
                }
            },
        },
        "terraform": {"required_providers": {"alicloud": {"source": "aliyun/alicloud", "version": "1.289.0"}}},
    }


def test_litellm_provider_pin_alias_and_key(stack: cdktf.TerraformStack) -> None:
    api_key = cdktf.TerraformVariable(stack, "litellm_api_key", type="string", sensitive=True)
    gateway = LitellmProvider(
        stack, "gateway", api_base="http://gateway.internal:4000", api_key=api_key.string_value, alias="internal"
    )
    Key(
        stack,
        "research",
        key_alias="research",
        rpm_limit=60,
        tpm_limit=10_000,
        max_budget=5.0,
        budget_duration="1d",
        models=["qwen-max"],
        metadata={"agent": "research"},
        provider=gateway,
    )
    synthesized = _synth(stack)
    assert synthesized["terraform"]["required_providers"] == {
        "litellm": {"source": "BerriAI/litellm", "version": "0.4.0"}
    }
    assert synthesized["provider"]["litellm"] == [
        {"alias": "internal", "api_base": "http://gateway.internal:4000", "api_key": "${var.litellm_api_key}"}
    ]
    assert synthesized["resource"]["litellm_key"]["research"] == {
        "budget_duration": "1d",
        "key_alias": "research",
        "max_budget": 5.0,
        "metadata": {"agent": "research"},
        "models": ["qwen-max"],
        "provider": "litellm.internal",
        "rpm_limit": 60,
        "tpm_limit": 10_000,
    }


def test_escape_hatches_keep_working(stack: cdktf.TerraformStack) -> None:
    vpc = Vpc(stack, "vpc", cidr_block="10.0.0.0/8")
    vsw = Vswitch(stack, "vsw", vpc_id="vpc-1", cidr_block="10.0.1.0/24", zone_id="cn-hangzhou-a", depends_on=[vpc])
    vsw.add_override("lifecycle.ignore_changes", ["tags"])
    vsw.override_logical_id("renamed")
    # Like the prebuilt bindings, a construct dependency orders constructs but adds no depends_on.
    vsw.node.add_dependency(vpc)
    assert vsw.node.dependencies == [vpc]
    resource = _synth(stack)["resource"]["alicloud_vswitch"]["renamed"]
    assert resource["lifecycle"] == {"ignore_changes": ["tags"]}
    assert resource["depends_on"] == ["alicloud_vpc.vpc"]


def test_package_init_files_stay_tiny() -> None:
    for init in (IMPORTS / "__init__.py", IMPORTS / "alicloud" / "__init__.py", IMPORTS / "litellm" / "__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)], init
    assert (REPO / "imports" / "README.md").is_file()
