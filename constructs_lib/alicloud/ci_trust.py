"""GitHub Actions OIDC trust on Alibaba Cloud: an IMS OIDC provider and a plan + apply RAM role per stage.

A role is assumable only with a GitHub token whose `iss`, `aud` (`sts.aliyuncs.com`, what
`aliyun/configure-aliyun-credentials-action` requests by default) and `sub`
(`repo:<owner>/<name>:environment:<stage>[-plan]`) all match exactly. Permissions are custom policies, not the
broad system ones: Alibaba Cloud's read-only system policies include `kms:GetSecretValue` on every secret. Every
stage lives in one account, so a stage is told apart by its names (`<tenant>-<stage>-*`) and by the
`environment` tag every resource of its stacks carries (constructs_lib/alicloud/tagging.py).
- plan: read (`Describe*`/`List*`/`Get*`/`Query*`) of the services the stacks use; KMS secret reads only of the
  stage's own secrets (refreshing `alicloud_kms_secret` reads its value: the provider keeps it in state); the
  stage's state objects (`alicloud-<stage>/...`, `alicloud-<stage>-quotas/...`), the state key, and the rows of the
  stage's own lock table, and the stage's own buckets (`<tenant>-<stage>-*`).
- apply: the same services in full, but only for resources tagged with its stage (`acs:RequestTag` to create,
  `acs:ResourceTag` to change or delete), RAM only on roles and policies named `<tenant>-<stage>-*` except the CI
  roles themselves, KMS secrets named `<tenant>-<stage>-*` and keys tagged with its stage, OSS only on buckets
  named `<tenant>-<stage>-*` (the release bucket), the ALB and NAT service-linked roles (a fresh account has none),
  and its stage's state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from constructs import Construct

from constructs_lib._common.ci_identity import (
    GITHUB_OIDC_ISSUER,
    ROLES,
    oidc_subject,
    stage_lock_table,
    stage_state_names,
)
from imports.alicloud.ims_oidc_provider import ImsOidcProvider
from imports.alicloud.ram_policy import RamPolicy
from imports.alicloud.ram_role import RamRole
from imports.alicloud.ram_role_policy_attachment import RamRolePolicyAttachment

ALIBABA_AUDIENCE = "sts.aliyuncs.com"
# Services of the gateway, quotas and bootstrap stacks (RAM codes).
STACK_SERVICES = ("ecs", "vpc", "alb", "rds", "kvstore", "log", "ess", "ots", "oss")
READ_ACTIONS = ("Describe*", "List*", "Get*", "Query*")
# Service-linked roles a fresh account lacks until the first ALB / NAT gateway: the apply role creates them, and
# only them. Names from the system policies that create them: AliyunALBFullAccess
# (https://help.aliyun.com/zh/ram/developer-reference/aliyunalbfullaccess: alb + its access-log delivery to SLS) and
# AliyunServiceRolePolicyForNatgw (https://alibabacloud.com/help/en/ram/developer-reference/aliyunservicerolepolicyfornatgw).
SERVICE_LINKED_ROLES = ("alb.aliyuncs.com", "logdelivery.alb.aliyuncs.com", "nat.aliyuncs.com")
# The tag key naming a resource's stage (constructs_lib/_common/tags.py IDENTITY_TAG_KEYS).
ENVIRONMENT_TAG = "environment"
# CloudMonitor (the gateway's alarms, constructs_lib/alicloud/alarms.py): the calls the provider makes for
# alicloud_cms_alarm, _alarm_contact and _alarm_contact_group at v1.289.0 (resource_alicloud_cms_alarm.go:606, 869, 889,
# 953, 990; resource_alicloud_cms_alarm_contact.go:60, 168; resource_alicloud_cms_alarm_contact_group.go:53, 163).
# CloudMonitor scopes none of them by resource or tag ("All Resources", no condition key: the RAM table of
# https://www.alibabacloud.com/help/doc-detail/114934.html, PutResourceMetricRule), so they are granted account-wide.
CMS_APPLY_ACTIONS = (
    "cms:PutResourceMetricRule",
    "cms:EnableMetricRules",
    "cms:DisableMetricRules",
    "cms:PutMetricRuleTargets",
    "cms:DeleteMetricRules",
    "cms:PutContact",
    "cms:DeleteContact",
    "cms:PutContactGroup",
    "cms:DeleteContactGroup",
)
# Longer than the apply job's timeout (60 min, deploy-stack.yml), so credentials never expire mid-apply.
MAX_SESSION_SECONDS = 7200


@dataclass(frozen=True)
class GithubOidcIdentityProps:
    # Thumbprints of the certificate chain of GitHub's issuer (verify with openssl before changing).
    fingerprints: Sequence[str]
    name: str = "github-actions"


class GithubOidcIdentity(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GithubOidcIdentityProps) -> None:
        super().__init__(scope, construct_id)
        self.provider = ImsOidcProvider(
            self,
            "provider",
            oidc_provider_name=props.name,
            issuer_url=GITHUB_OIDC_ISSUER,
            client_ids=[ALIBABA_AUDIENCE],
            fingerprints=sorted(fingerprint.lower() for fingerprint in props.fingerprints),
            issuance_limit_time=1,
            description="GitHub Actions (OIDC)",
        )

    @property
    def arn(self) -> str:
        return self.provider.arn


@dataclass(frozen=True)
class AlicloudCiRolesProps:
    repository: str
    stage: str
    account_id: str
    region: str
    # `<tenant>-<stage>`: role and policy names, and the names the apply role may manage.
    name_prefix: str
    state_bucket: str
    state_key_arn: str
    lock_instance: str
    # The configured lock table name; each stage locks in `<name>_<stage>` (stage_lock_table).
    lock_table: str


def _statement(actions: Sequence[str], resources: Sequence[str], effect: str = "Allow", condition: dict | None = None):
    statement = {"Effect": effect, "Action": list(actions), "Resource": list(resources)}
    if condition:
        statement["Condition"] = condition
    return statement


def _state_statements(props: AlicloudCiRolesProps, *, write: bool) -> list[dict]:
    bucket = f"acs:oss:*:{props.account_id}:{props.state_bucket}"
    objects = ["oss:GetObject", "oss:PutObject", "oss:DeleteObject"] if write else ["oss:GetObject"]
    own_objects = [f"{bucket}/{name}/*" for name in stage_state_names("alicloud", props.stage)]
    table = stage_lock_table(props.lock_table, props.stage)
    return [
        _statement(["oss:ListObjects", "oss:GetBucketInfo"], [bucket]),
        _statement(objects, own_objects),
        _statement(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], [props.state_key_arn]),
        # The OSS backend's lock rows, in this stage's table: deploy-time plans lock too (PR plans run -lock=false).
        _statement(
            ["ots:GetRow", "ots:PutRow", "ots:DeleteRow", "ots:UpdateRow", "ots:DescribeTable"],
            [f"acs:ots:{props.region}:{props.account_id}:instance/{props.lock_instance}/table/{table}"],
        ),
    ]


def _own_buckets(props: AlicloudCiRolesProps) -> list[str]:
    """The stage's own buckets (`<tenant>-<stage>-*`, e.g. the gateway's release bucket) and their objects."""
    buckets = f"acs:oss:*:{props.account_id}:{props.name_prefix}-*"
    return [buckets, f"{buckets}/*"]


def _service_linked_roles() -> dict:
    condition = {"StringEquals": {"ram:ServiceName": list(SERVICE_LINKED_ROLES)}}
    return _statement(["ram:CreateServiceLinkedRole"], ["*"], condition=condition)


def _own_stage(stage: str, key: str) -> dict:
    return {"StringEquals": {key: stage}}


def policy_document(props: AlicloudCiRolesProps, role: str) -> dict:
    own_secrets = f"acs:kms:{props.region}:{props.account_id}:secret/{props.name_prefix}-*"
    keys = f"acs:kms:{props.region}:{props.account_id}:key/*"
    # Not OSS or Tablestore: `oss:Get*` would read every object (other stages' state) and `ots:Get*` every row.
    service_reads = [
        f"{service}:{action}" for service in STACK_SERVICES if service not in ("oss", "ots") for action in READ_ACTIONS
    ]
    reads = [
        _statement(service_reads, ["*"]),
        _statement(["ram:Get*", "ram:List*", "ims:Get*", "ims:List*"], ["*"]),
        _statement(["kms:Describe*", "kms:List*"], ["*"]),
        # The refresh of the alarms, contacts and contact groups (service_alicloud_cms.go: Describe* calls).
        _statement(["cms:Describe*"], ["*"]),
    ]
    if role == "plan":
        # Refreshing `alicloud_kms_secret` reads its value: the stage's own secrets only (never another stage's).
        statements = [
            *reads,
            _statement(["kms:GetSecretValue", "kms:Decrypt"], [own_secrets, keys]),
            _statement(["oss:Get*", "oss:List*"], _own_buckets(props)),
        ]
        return {"Version": "1", "Statement": statements + _state_statements(props, write=False)}
    # OSS and Tablestore hold the state and its locks: never by tag (a request can carry any tag), only by name.
    managed = [f"{service}:*" for service in STACK_SERVICES if service not in ("oss", "ots")]
    own_ram = [
        f"acs:ram::{props.account_id}:role/{props.name_prefix}-*",
        f"acs:ram::{props.account_id}:policy/{props.name_prefix}-*",
    ]
    statements = [
        *reads,
        # Everything of the stage is tagged `environment: <stage>` (AlicloudTags): the apply role creates only
        # resources carrying its own stage's tag and changes or deletes only resources that already carry it.
        _statement(managed, ["*"], condition=_own_stage(props.stage, f"acs:RequestTag/{ENVIRONMENT_TAG}")),
        _statement(managed, ["*"], condition=_own_stage(props.stage, f"acs:ResourceTag/{ENVIRONMENT_TAG}")),
        _statement(["oss:*"], _own_buckets(props)),
        # RAM only on the stage's own names; the CI roles themselves are never changed.
        _statement(["ram:*"], own_ram),
        _statement(["ram:PassRole"], own_ram[:1]),
        _statement(["ram:*"], [f"acs:ram::{props.account_id}:role/{props.name_prefix}-ci-*"], effect="Deny"),
        _statement(["ram:*"], [f"acs:ram::{props.account_id}:policy/{props.name_prefix}-ci-*"], effect="Deny"),
        _statement(["kms:CreateKey", "kms:TagResource", "kms:CreateAlias"], ["*"]),
        _statement(["kms:*"], [own_secrets]),
        _statement(["kms:*"], [keys], condition=_own_stage(props.stage, f"acs:ResourceTag/{ENVIRONMENT_TAG}")),
        _service_linked_roles(),
        _statement(list(CMS_APPLY_ACTIONS), ["*"]),
    ]
    return {"Version": "1", "Statement": statements + _state_statements(props, write=True)}


class AlicloudCiRoles(Construct):
    """The plan and apply RAM roles of one stage."""

    def __init__(
        self, scope: Construct, construct_id: str, props: AlicloudCiRolesProps, identity: GithubOidcIdentity
    ) -> None:
        super().__init__(scope, construct_id)
        self.roles: dict[str, RamRole] = {}
        for role in ROLES:
            trust = {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Federated": [identity.arn]},
                        "Condition": {
                            "StringEquals": {
                                "oidc:iss": GITHUB_OIDC_ISSUER,
                                "oidc:aud": ALIBABA_AUDIENCE,
                                "oidc:sub": oidc_subject(props.repository, props.stage, role),
                            }
                        },
                    }
                ],
            }
            ram_role = RamRole(
                self,
                role,
                role_name=f"{props.name_prefix}-ci-{role}",
                description=f"GitHub Actions {role} of stage {props.stage} ({props.repository})",
                assume_role_policy_document=json.dumps(trust, sort_keys=True),
                max_session_duration=MAX_SESSION_SECONDS,
            )
            policy = RamPolicy(
                self,
                f"{role}-policy",
                policy_name=f"{props.name_prefix}-ci-{role}",
                description=f"GitHub Actions {role} of stage {props.stage}",
                policy_document=json.dumps(policy_document(props, role), sort_keys=True),
            )
            RamRolePolicyAttachment(
                self,
                f"{role}-attachment",
                policy_name=policy.policy_name,
                policy_type="Custom",
                role_name=ram_role.role_name,
            )
            self.roles[role] = ram_role
