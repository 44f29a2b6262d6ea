"""What a real `terraform apply` of `alicloud-<env>` needs beyond the offline checks: each rule from its source.

Provider rules cite aliyun/terraform-provider-alicloud at tag v1.289.0 (file:line); documentation rules cite the
Alibaba Cloud page's address.
"""

from __future__ import annotations

import re

import pytest
import yaml

from constructs_lib._common.errors import PropsError
from tests.cloud_conditions import ram_allows
from tests.conftest import CONFIG_DIR
from tests.test_alicloud_gateway import _load, _runtime_module, _synth, only, resources


def _seconds(duration: str) -> int:
    """A Terraform duration (Go time.ParseDuration: `1h5m`, `3900s`) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.fullmatch(r"(?:\d+[hms])+", duration) and re.findall(r"(\d+)([hms])", duration)
    assert parts, duration
    return sum(int(number) * units[unit] for number, unit in parts)


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory) -> dict:
    return _synth(_load(tmp_path_factory.mktemp("dev"), {}))


# --- 1. Cloud Assistant invocations wait as long as the command runs ----------------------------------------


def test_each_invocation_waits_for_the_whole_command_not_the_providers_one_minute(dev_stack):
    # resource_alicloud_ecs_invocation.go:21 (v1.289.0): `Create: schema.DefaultTimeout(1 * time.Minute)`, and
    # :136 waits within that timeout for InvocationStatus `Success` (or `Scheduled`), failing on a timeout.
    # The command runs install (pip), then migrate (prisma) or restart (readiness wait): minutes, not one.
    command = only(dev_stack, "alicloud_ecs_command")
    invocations = resources(dev_stack, "alicloud_ecs_invocation")
    assert invocations
    for name, body in invocations.items():
        assert "timeouts" in body, f"{name}: no timeouts, so the provider gives up after one minute"
        assert _seconds(body["timeouts"]["create"]) > command["timeout"], (name, body["timeouts"])
    waits = _runtime_module().STEP_WAITS
    for mode in {body["parameters"]["mode"] for body in invocations.values()}:
        # The steps this mode runs, each up to its own bound in the runtime script.
        steps = waits["credentials"] + waits["install"] + (waits["migrate"] if mode == "migrate" else waits["ready"])
        assert command["timeout"] >= steps, (mode, command["timeout"], steps)


def test_a_command_timeout_shorter_than_the_steps_waits_is_refused(tmp_path):
    config = _load(tmp_path, {"migrations": {"timeout_seconds": 1800}})
    with pytest.raises(PropsError) as caught:
        _synth(config)
    assert caught.value.field == "clouds.alicloud.migrations.timeout_seconds"
    assert "step waits" in caught.value.problem


# --- 2. Secrets need a key inside a KMS instance ----------------------------------------------------------------

CREATE_SECRET = (
    "https://www.alibabacloud.com/help/en/kms/developer-reference/api-createsecret"  # pragma: allowlist secret
)


def _quotas_stack(config) -> dict:
    import json

    import cdktf

    from stacks.alicloud.quotas import AlicloudQuotasStack
    from stacks.context import StackContext
    from tests.conftest import CONFIG_DIR

    context = StackContext(f"alicloud-{config.env}-quotas", "alicloud", "quotas", CONFIG_DIR / "dev.yaml", config)
    return json.loads(cdktf.Testing.synth(AlicloudQuotasStack(cdktf.Testing.app(), context, "https://gw.example")))


def test_every_kms_key_lives_in_the_configured_kms_instance(dev_stack, tmp_path):
    # CREATE_SECRET: "The key and the secret must belong to the same KMS instance, and the key must be a symmetric
    # key." A key created without DKMSInstanceId is a default key, outside any instance: CreateSecret refuses it.
    config = _load(tmp_path, {})
    for stack in (dev_stack, _quotas_stack(config)):
        keys = resources(stack, "alicloud_kms_key")
        assert keys
        for name, body in keys.items():
            assert "dkms_instance_id" in body, f"{name}: a default key, in no KMS instance ({CREATE_SECRET})"
            assert body["dkms_instance_id"] == config.cloud("alicloud").secrets.kms_instance_id


def test_a_missing_kms_instance_is_a_clear_config_error(tmp_path):
    from constructs_lib.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"secrets": {"kms_instance_id": None}})
    assert caught.value.path == "clouds.alicloud.secrets.kms_instance_id"
    assert "KMS instance" in caught.value.problem and caught.value.line is not None


# --- 3. Redis: the class must run the engine version ------------------------------------------------------------

CLOUD_NATIVE_CLASSES = "https://www.alibabacloud.com/help/en/redis/product-overview/instance-types-of-cloud-native-community-edition-instances"
CLASSIC_MAX_5_0 = "https://www.alibabacloud.com/help/id/redis/user-guide/upgrade-the-major-version-1"


def test_every_example_redis_runs_its_engine_on_a_class_that_has_it(tmp_path):
    # CLOUD_NATIVE_CLASSES lists the cloud-native standard classes as redis.shard.<size>.ce (e.g.
    # redis.shard.small.2.ce, 1 GB); CLASSIC_MAX_5_0: classic-mode instances go up to Redis 5.0 only.
    for env in ("dev", "staging", "prod"):
        base = yaml.safe_load((CONFIG_DIR / f"{env}.yaml").read_text())
        stack = _synth(_load(tmp_path, {}, name=env, base=base))
        redis = only(stack, "alicloud_kvstore_instance")
        if float(redis["engine_version"]) > 5.0:
            cloud_native = re.fullmatch(r"redis\.shard\.[a-z0-9.]+\.ce", redis["instance_class"])
            assert cloud_native, (env, redis["instance_class"])


@pytest.mark.parametrize(
    ("cache", "ok"),
    [
        ({"instance_class": "redis.master.small.default", "engine_version": "7.0"}, False),
        ({"instance_class": "redis.master.mid.default", "engine_version": "6.0"}, False),
        ({"instance_class": "redis.master.small.default", "engine_version": "5.0"}, True),
        ({"instance_class": "redis.shard.small.2.ce", "engine_version": "7.0"}, True),
        ({"instance_class": "redis.shard.mid.2.ce", "engine_version": "6.0"}, True),
    ],
)
def test_redis_class_and_engine_are_checked_together(tmp_path, cache, ok):
    from constructs_lib.config import ConfigError

    if ok:
        assert _load(tmp_path, {"cache": cache}).cloud("alicloud").cache.instance_class == cache["instance_class"]
        return
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"cache": cache})
    assert caught.value.path == "clouds.alicloud.cache.instance_class"
    assert "cloud-native" in caught.value.problem and cache["instance_class"] in caught.value.problem


# --- 4. RDS: edition (category), instance type and engine version agree ------------------------------------------

RDS_PG_TYPES = "https://help.aliyun.com/document_detail/276990.htm"


def test_every_example_database_uses_a_type_of_its_edition(tmp_path):
    # RDS_PG_TYPES: the Basic Edition (基础系列) general-purpose 2-core type is pg.n2.2c.1m; pg.n2.2c.2m is the
    # High-availability Edition (高可用系列) row.
    basic_types = {"pg.n2.2c.1m", "pg.n4.2c.1m", "pg.n2.4c.1m", "pg.n4.4c.1m", "pg.n4.6c.1m", "pg.n4.8c.1m"}
    for env in ("dev", "staging", "prod"):
        base = yaml.safe_load((CONFIG_DIR / f"{env}.yaml").read_text())
        database = only(_synth(_load(tmp_path, {}, name=env, base=base)), "alicloud_db_instance")
        if database["category"] == "Basic":
            assert database["instance_type"] in basic_types, (env, database["instance_type"])
        else:
            assert database["category"] == "HighAvailability" and database["instance_type"] not in basic_types


@pytest.mark.parametrize(
    ("database", "field"),
    [
        ({"instance_type": "pg.n2.2c.2m", "high_availability": False}, "instance_type"),  # an HA type on Basic
        ({"instance_type": "pg.n2.2c.1m", "high_availability": True}, "instance_type"),  # a Basic type on HA
        ({"instance_type": "pg.x8.medium.1", "high_availability": True}, "instance_type"),
    ],
)
def test_an_instance_type_of_the_other_edition_is_refused(tmp_path, database, field):
    with pytest.raises(PropsError) as caught:
        _synth(_load(tmp_path, {"database": database}))
    assert caught.value.field == f"clouds.alicloud.database.{field}"
    assert database["instance_type"] in caught.value.problem


def test_the_default_type_follows_the_edition(tmp_path):
    basic = only(_synth(_load(tmp_path, {"database": {"high_availability": False}})), "alicloud_db_instance")
    ha = only(_synth(_load(tmp_path, {"database": {"high_availability": True}})), "alicloud_db_instance")
    assert (basic["category"], basic["instance_type"]) == ("Basic", "pg.n2.2c.1m")
    assert (ha["category"], ha["instance_type"]) == ("HighAvailability", "pg.n2.2c.2m")


# --- 5. The CI apply role can create what the gateway stack creates ---------------------------------------------

ALB_FULL_ACCESS = "https://help.aliyun.com/zh/ram/developer-reference/aliyunalbfullaccess"
NATGW_ROLE_POLICY = "https://alibabacloud.com/help/en/ram/developer-reference/aliyunservicerolepolicyfornatgw"


def _ci_props(stage: str):
    from constructs_lib.alicloud.ci_trust import AlicloudCiRolesProps

    return AlicloudCiRolesProps(
        repository="acme/llm-gateway",
        stage=stage,
        account_id="1234567890",
        region="cn-shanghai",
        name_prefix=f"acme-{stage}",
        state_bucket="acme-llmgw-tfstate-ali",
        state_key_arn="acs:kms:cn-shanghai:1234567890:key/state",
        lock_instance="acme-tflock",
        lock_table="llmgw_lock",
    )


def test_apply_role_creates_and_writes_its_own_release_bucket_only(dev_stack):
    from constructs_lib.alicloud.ci_trust import policy_document

    (bucket,) = [body["bucket"] for body in resources(dev_stack, "alicloud_oss_bucket").values()]
    key = next(iter(resources(dev_stack, "alicloud_oss_bucket_object").values()))["key"]
    apply, plan = policy_document(_ci_props("dev"), "apply"), policy_document(_ci_props("dev"), "plan")
    bucket_arn = f"acs:oss:cn-shanghai:1234567890:{bucket}"
    for action in ("oss:PutBucket", "oss:PutBucketEncryption", "oss:GetBucketInfo", "oss:DeleteBucket"):
        assert ram_allows(apply, action, bucket_arn), action
    assert ram_allows(apply, "oss:PutObject", f"{bucket_arn}/{key}")
    # The plan refreshes the bucket and its objects; it changes nothing.
    assert ram_allows(plan, "oss:GetBucketInfo", bucket_arn)
    assert ram_allows(plan, "oss:GetObject", f"{bucket_arn}/{key}")
    assert not ram_allows(plan, "oss:PutObject", f"{bucket_arn}/{key}")
    # Another stage's bucket is out of reach.
    other_stage = bucket.replace("-dev-", "-prod-")
    assert not ram_allows(apply, "oss:PutObject", f"acs:oss:cn-shanghai:1234567890:{other_stage}/x")


def test_apply_role_creates_the_alb_and_nat_service_linked_roles_and_no_other():
    from constructs_lib.alicloud.ci_trust import policy_document

    apply = policy_document(_ci_props("dev"), "apply")
    # ALB_FULL_ACCESS lets ALB create its roles for ram:ServiceName alb.aliyuncs.com (and
    # logdelivery.alb.aliyuncs.com for access logs to SLS); NATGW_ROLE_POLICY names nat.aliyuncs.com.
    for service in ("alb.aliyuncs.com", "logdelivery.alb.aliyuncs.com", "nat.aliyuncs.com"):
        assert ram_allows(apply, "ram:CreateServiceLinkedRole", "*", {"ram:ServiceName": service}), service
    assert not ram_allows(apply, "ram:CreateServiceLinkedRole", "*", {"ram:ServiceName": "ecs.aliyuncs.com"})
    assert not ram_allows(apply, "ram:CreateServiceLinkedRole", "*")


def test_the_ci_roles_can_refresh_and_the_apply_role_can_manage_the_gateway_alarms(dev_stack):
    """Each CloudMonitor call the provider makes for the alarm resources (ci_trust.CMS_APPLY_ACTIONS cites the lines)
    is allowed to apply, and none but the Describe reads to plan. CloudMonitor scopes them by nothing
    (https://www.alibabacloud.com/help/doc-detail/114934.html: "All Resources", no condition key), so Resource `*`."""
    from constructs_lib.alicloud.ci_trust import CMS_APPLY_ACTIONS, policy_document

    assert {"alicloud_cms_alarm", "alicloud_cms_alarm_contact", "alicloud_cms_alarm_contact_group"} <= set(
        dev_stack["resource"]
    )
    apply, plan = policy_document(_ci_props("dev"), "apply"), policy_document(_ci_props("dev"), "plan")
    reads = ("cms:DescribeMetricRuleList", "cms:DescribeContactList", "cms:DescribeContactGroupList")
    for action in (*CMS_APPLY_ACTIONS, *reads):
        assert ram_allows(apply, action, "*"), action
    for action in reads:
        assert ram_allows(plan, action, "*"), action
    for action in CMS_APPLY_ACTIONS:
        assert not ram_allows(plan, action, "*"), action
    # Nothing of CloudMonitor beyond those calls (no cms:* wildcard).
    assert not ram_allows(apply, "cms:PutCustomMetric", "*")
