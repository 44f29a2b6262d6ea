"""The provider pins and the resources the project uses: the one list to extend.

The alicloud provider registers ~1,100 resources; the checked-in schema keeps only what the stacks
use, so reviews stay readable. Add a name here, run ``make schemas`` then ``make bindings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MIRRORS = Path("/work/.mirror")


@dataclass(frozen=True)
class ProviderPin:
    """Where one provider's source lives and which of its schemas to extract.

    ``resources``/``data_sources`` of ``None`` mean "every one the provider registers".
    """

    name: str
    registry_source: str
    version: str
    repo: str
    tag: str
    package_dir: str
    sdk_major: int
    resources: tuple[str, ...] | None = None
    data_sources: tuple[str, ...] | None = None

    @property
    def mirror(self) -> Path:
        return MIRRORS / self.repo.replace("/", "+") / "repo"

    @property
    def provider_address(self) -> str:
        """The key Terraform prints: registry host plus the lower-cased namespace/type."""
        return f"registry.terraform.io/{self.registry_source.lower()}"

    @property
    def stem(self) -> str:
        return f"{self.name}@{self.version}"


ALICLOUD = ProviderPin(
    name="alicloud",
    registry_source="aliyun/alicloud",
    version="1.289.0",
    repo="aliyun/terraform-provider-alicloud",
    tag="v1.289.0",
    package_dir="alicloud",
    sdk_major=1,  # go.mod at v1.289.0: github.com/hashicorp/terraform-plugin-sdk v1.17.2
    resources=(
        "alicloud_alb_listener",
        "alicloud_alb_load_balancer",
        "alicloud_alb_rule",
        "alicloud_alb_server_group",
        # CloudMonitor alarms on the ALB (item 14), their contact group and contacts.
        "alicloud_cms_alarm",
        "alicloud_cms_alarm_contact",
        "alicloud_cms_alarm_contact_group",
        "alicloud_db_account_privilege",
        "alicloud_db_backup_policy",
        "alicloud_db_database",
        "alicloud_db_instance",
        "alicloud_ecs_command",
        "alicloud_ecs_invocation",
        "alicloud_ecs_ram_role_attachment",
        "alicloud_eip_address",
        "alicloud_eip_association",
        "alicloud_ess_scaling_configuration",
        "alicloud_ess_scaling_group",
        "alicloud_ess_scaling_rule",
        # RAM OIDC providers are registered under the IMS product name at v1.289.0.
        "alicloud_ims_oidc_provider",
        "alicloud_instance",
        "alicloud_kms_alias",
        "alicloud_kms_key",
        "alicloud_kms_secret",
        "alicloud_kvstore_instance",
        "alicloud_log_project",
        "alicloud_log_store",
        "alicloud_log_store_index",
        "alicloud_log_machine_group",
        "alicloud_logtail_config",
        "alicloud_logtail_attachment",
        "alicloud_nat_gateway",
        "alicloud_oss_bucket",
        "alicloud_oss_bucket_acl",
        "alicloud_oss_bucket_object",
        "alicloud_oss_bucket_public_access_block",
        "alicloud_oss_bucket_server_side_encryption",
        "alicloud_oss_bucket_versioning",
        "alicloud_ots_instance",
        "alicloud_ots_table",
        "alicloud_ram_policy",
        "alicloud_ram_role",
        "alicloud_ram_role_policy_attachment",
        "alicloud_rds_account",
        "alicloud_security_group",
        "alicloud_security_group_rule",
        "alicloud_snat_entry",
        "alicloud_vpc",
        "alicloud_vswitch",
    ),
    data_sources=(
        "alicloud_account",
        "alicloud_images",
        "alicloud_instance_types",
        "alicloud_kms_secret_versions",
        "alicloud_zones",
    ),
)

LITELLM = ProviderPin(
    name="litellm",
    registry_source="BerriAI/litellm",
    version="0.4.0",
    repo="BerriAI/terraform-provider-litellm",
    tag="v0.4.0",
    package_dir="litellm",
    sdk_major=2,  # go.mod at v0.4.0: github.com/hashicorp/terraform-plugin-sdk/v2 v2.40.0
)

PINS: tuple[ProviderPin, ...] = (ALICLOUD, LITELLM)
