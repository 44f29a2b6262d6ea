"""LiteLLM on ECS: the release artifacts in OSS and the gateway instances (one or more per zone).

* The release: the hash-locked LiteLLM proxy requirements (`assets/litellm-proxy.lock.txt`, one wheel hash per
  package, installed with `pip --require-hashes`) and the LiteLLM config generated from the typed config
  (`constructs_lib/_common/litellm_config.py`), as content-addressed objects in a private, KMS-encrypted bucket.
  The instances check each object's SHA-256 before use.
* The instances: no public IP, encrypted system disk, metadata service in hardened (token) mode, the gateway RAM
  role attached with `alicloud_ecs_ram_role_attachment`. Their user data is static: it installs the image's own
  python3 (Ubuntu 24.04: CPython 3.12 from main; the runtime refuses a pre-release interpreter) and creates the service
  user, and holds no secret, no secret version, no release and no runtime code, so a
  release or a rotation never reboots an instance (a user-data change would). The runtime, the releases and the
  rotations reach the instances through Cloud Assistant (constructs_lib/alicloud/migrations.py).
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdktf import Fn, TerraformResourceLifecycle
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.litellm_config import ProxyConfig
from constructs_lib._common.naming import Naming
from constructs_lib.alicloud.bucket import private_bucket
from constructs_lib.alicloud.logs import REQUEST_LOGGER
from constructs_lib.alicloud.ram import GatewayRole
from constructs_lib.config.alicloud import AlicloudGatewayConfig
from imports.alicloud.data_alicloud_images import DataAlicloudImages
from imports.alicloud.ecs_ram_role_attachment import EcsRamRoleAttachment
from imports.alicloud.instance import Instance
from imports.alicloud.oss_bucket_object import OssBucketObject

ASSETS = Path(__file__).resolve().parent / "assets"
REQUIREMENTS_LOCK = ASSETS / "litellm-proxy.lock.txt"
GATEWAY_PORT = 4000


def bootstrap_script() -> str:
    """The instances' user data: static, no secret, no version, no release, no runtime code.

    Everything that changes (the runtime script, its systemd unit, the release, the secret versions) arrives
    with the deploy command (constructs_lib/alicloud/migrations.py), so no change ever edits the user data:
    an edit would reboot the instance, and cloud-init would not even run the script again.
    """
    return """#!/bin/bash
# LLM gateway bootstrap. No xtrace: nothing here may be traced into the cloud-init log.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -y
apt-get install -y --no-install-recommends python3 python3-venv ca-certificates
id litellm >/dev/null 2>&1 || useradd --system --home-dir /var/lib/llmgw --create-home --shell /usr/sbin/nologin litellm
install -d -m 0755 /opt/llmgw /etc/llmgw
# The runtime, its unit and the release come with the first deploy command (Cloud Assistant).
touch /opt/llmgw/.bootstrapped
"""


@dataclass(frozen=True)
class ReleaseArtifact:
    key: str
    sha256: str
    arn: str

    def document(self) -> dict[str, str]:
        return {"key": self.key, "sha256": self.sha256}


@dataclass(frozen=True)
class GatewayReleaseProps:
    naming: Naming
    region: str
    account_id: str
    kms_key_id: str
    proxy_config: ProxyConfig
    # PEM text of the CA chain that signs the Redis TLS certificate (public).
    redis_ca_certificate: str
    production: bool = False

    def __post_init__(self) -> None:
        try:  # OpenSSL parses every certificate of the chain, as LiteLLM's Redis client will
            ssl.create_default_context().load_verify_locations(cadata=self.redis_ca_certificate)
        except (ssl.SSLError, ValueError):
            raise PropsError("clouds.alicloud.cache.ca_certificate_file", "is not a PEM certificate chain") from None


class GatewayRelease(Construct):
    """Private, versioned, KMS-encrypted bucket with the release objects, keyed by their content digest."""

    def __init__(self, scope: Construct, construct_id: str, props: GatewayReleaseProps) -> None:
        super().__init__(scope, construct_id)
        self.bucket_name = props.naming.name(f"llmgw-release-{props.region}")
        self.bucket = private_bucket(self, self.bucket_name, props.kms_key_id, force_destroy=not props.production)
        requirements = REQUIREMENTS_LOCK.read_text()
        self.requirements = self._object(props, "requirements", "litellm-proxy.lock.txt", requirements, "text/plain")
        self.config = self._object(props, "config", "config.yaml", props.proxy_config.text, "application/yaml")
        self.redis_ca = self._object(
            props, "redis-ca", "redis-ca.pem", props.redis_ca_certificate, "application/x-pem-file"
        )
        # The request logger LiteLLM loads from the config's directory (constructs_lib/alicloud/logs.py).
        self.request_log = self._object(
            props, "request-log", REQUEST_LOGGER.name, REQUEST_LOGGER.read_text(), "text/x-python"
        )
        self.litellm_version = next(
            line.split("==", 1)[1].split()[0] for line in requirements.splitlines() if line.startswith("litellm==")
        )

    def _object(self, props: GatewayReleaseProps, construct_id: str, name: str, text: str, content_type: str):
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        key = f"releases/{digest[:16]}/{name}"
        OssBucketObject(
            self,
            construct_id,
            bucket=self.bucket.bucket,
            key=key,
            content=text,
            content_type=content_type,
            acl="private",
            server_side_encryption="KMS",
            kms_key_id=props.kms_key_id,
        )
        arn = f"acs:oss:oss-{props.region}:{props.account_id}:{self.bucket_name}/{key}"
        return ReleaseArtifact(key=key, sha256=digest, arn=arn)

    @property
    def object_arns(self) -> list[str]:
        return [artifact.arn for artifact in (self.requirements, self.config, self.redis_ca, self.request_log)]


@dataclass(frozen=True)
class GatewayInstancesProps:
    naming: Naming
    config: AlicloudGatewayConfig
    zones: Sequence[str]
    vswitch_ids: Sequence[str]
    security_group_id: str
    kms_key_id: str
    role: GatewayRole
    production: bool = False

    def __post_init__(self) -> None:
        if len(self.zones) < 2 or len(self.zones) != len(self.vswitch_ids):
            raise PropsError("clouds.alicloud.zones", "gateway instances need one vSwitch in each of two zones")


class GatewayInstances(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayInstancesProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        if config.image_id is not None:
            image_id, lifecycle = config.image_id, None
        else:
            images = DataAlicloudImages(
                self,
                "image",
                name_regex=config.image_name_regex,
                owners="system",
                os_type="linux",
                architecture="x86_64",
                most_recent=True,
            )
            # A newer matching image must not replace running instances: it applies to new ones only.
            image_id, lifecycle = Fn.element(images.ids, 0), TerraformResourceLifecycle(ignore_changes=["image_id"])
        # Plain text (the provider base64-encodes it), so a review reads the script itself.
        user_data = bootstrap_script()
        self.instances: list[Instance] = []
        self.attachments: list[EcsRamRoleAttachment] = []
        for zone, vswitch_id in zip(props.zones, props.vswitch_ids, strict=True):
            for ordinal in range(config.instances_per_zone):
                number = len(self.instances) + 1
                instance = Instance(
                    self,
                    f"gateway-{number}",
                    instance_name=props.naming.name(f"gateway-{number}"),
                    host_name=props.naming.name(f"gateway-{number}"),
                    description=f"LiteLLM gateway {number} ({zone}, slot {ordinal + 1})",
                    availability_zone=zone,
                    vswitch_id=vswitch_id,
                    security_groups=[props.security_group_id],
                    instance_type=config.instance_type,
                    instance_charge_type="PostPaid",
                    image_id=image_id,
                    system_disk_category="cloud_essd",
                    system_disk_size=config.system_disk_size_gb,
                    system_disk_encrypted=True,
                    system_disk_kms_key_id=props.kms_key_id,
                    internet_max_bandwidth_out=0,
                    http_endpoint="enabled",
                    http_tokens="required",
                    security_enhancement_strategy="Active",
                    deletion_protection=props.production,
                    user_data=user_data,
                    lifecycle=lifecycle,
                )
                self.attachments.append(props.role.attach(f"role-{number}", instance.id))
                self.instances.append(instance)

    @property
    def ids(self) -> list[str]:
        return [instance.id for instance in self.instances]
