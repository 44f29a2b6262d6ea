"""LiteLLM's config and the hook files it loads, as KMS-encrypted objects of the gateway bucket that every task
fetches at the version its task definition names, and checks by SHA-256, before LiteLLM starts.

    files = ProxyFiles(scope, bucket, key_arn, render_proxy_config(config, runtime))
    files.env(region)  # CONFIG_FILE_PATH, the object versions and digests; FETCH_CONFIG_COMMAND reads them
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.s3_object import S3Object
from constructs import Construct

from constructs_lib._common.litellm_config import CONFIG_SHA_ENV, HookFile, ProxyConfig
from constructs_lib.aws.ecs_service import terraform_literal
from constructs_lib.aws.secure_bucket import SecureBucket

# Written at start by the task itself (Fargate's writable layer), read by LiteLLM; never shared between tasks.
CONFIG_PATH = "/tmp/litellm/proxy_config.yaml"  # noqa: S108
# Fetch the proxy config and the hook files LiteLLM loads from its directory, each at the S3 object version the
# task definition names (LLMGW_PROXY_HOOKS: `<object key>|<version id>|<file name>|<sha256>`, comma-separated: no
# quotes, as the value sits inside the container definitions' JSON text), and refuse to start unless every file's
# SHA-256 is the one in the definition. `sys.exit(<text>)` exits 1 with the text on stderr; an `assert` would vanish
# under PYTHONOPTIMIZE. The version pin is what makes a rollback work: the object keys never change (an in-place
# update writes a new version; the bucket expires noncurrent versions after its rollback window), so an older
# revision still fetches exactly its own files. Replacing a content-addressed object instead deletes every version
# of the old key (hashicorp/terraform-provider-aws internal/service/s3/object.go resourceObjectDelete:
# deleteAllObjectVersions when version_id is set), and a circuit-breaker rollback then exits on NoSuchKey.
HOOKS_ENV = "LLMGW_PROXY_HOOKS"
FETCH_CONFIG_COMMAND = (
    'python -c "import hashlib, os, sys, boto3; e = os.environ; '
    "d = os.path.dirname(e['CONFIG_FILE_PATH']); os.makedirs(d, exist_ok=True); "
    "s3 = boto3.client('s3', region_name=e['AWS_REGION']); "
    "files = [(e['LITELLM_PROXY_CONFIG_S3_OBJECT'], e['LITELLM_PROXY_CONFIG_S3_VERSION'], e['CONFIG_FILE_PATH'], "
    f"e['{CONFIG_SHA_ENV}'])] "
    f"+ [(k, v, os.path.join(d, n), h) for k, v, n, h in (x.split('|') for x in e['{HOOKS_ENV}'].split(',') if x)]; "
    "b = e['LITELLM_PROXY_CONFIG_S3_BUCKET']; "
    "[s3.download_file(b, k, p, ExtraArgs={'VersionId': v}) for k, v, p, h in files]; "
    "bad = [p for k, v, p, h in files if hashlib.sha256(open(p, 'rb').read()).hexdigest() != h]; "
    "sys.exit('proxy config digest mismatch: ' + ', '.join(bad) if bad else 0)\""
)


class ProxyFiles:
    """The proxy config object and one object per hook file, in `scope` (construct ids `proxy-config`,
    `proxy-hook-<name>`)."""

    def __init__(self, scope: Construct, bucket: SecureBucket, kms_key_arn: str, proxy_config: ProxyConfig) -> None:
        self._scope, self._bucket, self._kms_key_arn = scope, bucket, kms_key_arn
        self.proxy_config = proxy_config
        self.config_object = self._file("proxy-config", proxy_config.object_key, proxy_config.text, "application/yaml")
        # The files LiteLLM loads beside the config (the daily token cap hook).
        self.hook_objects: list[tuple[S3Object, HookFile]] = [
            (
                self._file(
                    f"proxy-hook-{hook.name.removesuffix('.py').replace('_', '-')}",
                    hook.object_key,
                    hook.text,
                    "text/x-python",
                ),
                hook,
            )
            for hook in proxy_config.hooks
        ]

    def _file(self, construct_id: str, object_key: str, text: str, content_type: str) -> S3Object:
        """A file the tasks fetch by version before LiteLLM starts (FETCH_CONFIG_COMMAND); KMS-encrypted."""
        return S3Object(
            self._scope,
            construct_id,
            bucket=self._bucket.name,
            key=object_key,
            content=terraform_literal(text),
            content_type=content_type,
            server_side_encryption="aws:kms",
            kms_key_id=self._kms_key_arn,
            bucket_key_enabled=True,
        )

    def env(self, region: str) -> dict[str, str]:
        """What FETCH_CONFIG_COMMAND and LiteLLM read: the bucket, the pinned object versions and their digests."""
        bucket, config_object = self._bucket, self.config_object
        return {
            "S3_BUCKET_NAME": bucket.name,
            "S3_REGION_NAME": region,
            "CONFIG_FILE_PATH": CONFIG_PATH,
            "LITELLM_PROXY_CONFIG_S3_BUCKET": bucket.name,
            "LITELLM_PROXY_CONFIG_S3_OBJECT": config_object.key,
            "LITELLM_PROXY_CONFIG_S3_VERSION": config_object.version_id,
            # A changed proxy config (or hook) is a new task definition revision, so the services roll onto it.
            CONFIG_SHA_ENV: self.proxy_config.sha256,
            HOOKS_ENV: ",".join(
                f"{obj.key}|{obj.version_id}|{hook.name}|{hook.sha256}" for obj, hook in self.hook_objects
            ),
        }
