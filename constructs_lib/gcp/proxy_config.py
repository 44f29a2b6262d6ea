"""LiteLLM's proxy config (`config.yaml`) for the Cloud Run services that load it: a Secret Manager secret.

    proxy = GatewayProxyConfig(self, "proxy-config", GatewayProxyConfigProps(
        secret_id=naming.name("proxy-config"), proxy_config=render_proxy_config(config, runtime),
        readers={"gateway": "serviceAccount:...", "backend": "serviceAccount:..."}, production=True))
    GatewayService(..., env={**proxy.env}, secret_files=[proxy.file], command=["sh", "-c", f"{proxy.check} && ..."])

Why Secret Manager and not a GCS object: the document holds no secret value (every credential is an
`os.environ/<VAR>` reference), but a secret version is immutable and Cloud Run mounts exactly the version a
revision names, so a revision can only ever read the bytes it was deployed with; the read grant is on this one
secret, for the named identities only (a GCS volume mounts a whole bucket, whose objects can be overwritten).
The version is always pinned, whatever `clouds.gcp.secrets.version_pin` says: `latest` would let a new document
reach running instances without a new revision.

The digest goes into the container env as `sha256:<hex>` (a changed config is a new revision, so the services
roll), and `check` refuses to start LiteLLM unless the mounted file has that digest.

The hook files LiteLLM loads (the daily token cap, `ProxyConfig.hooks`) are secrets of their own, mounted under
/etc/litellm/proxy-hooks/<module>/ (Cloud Run mounts one secret per directory, so they cannot sit beside
config.yaml) and put on PYTHONPATH: LiteLLM imports a callback module that is not beside its config by name
(litellm/proxy/types_utils/utils.py:51-52). `check` verifies their digests as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.litellm_config import CONFIG_SHA_ENV, ProxyConfig
from constructs_lib.gcp.cloud_run import SecretFile
from constructs_lib.gcp.secrets import GatewaySecret, GatewaySecretProps

# What LiteLLM's proxy reads at start (proxy_server.py: `get_secret_str("CONFIG_FILE_PATH")`).
CONFIG_FILE_ENV = "CONFIG_FILE_PATH"
CONFIG_DIR, CONFIG_FILE = "/etc/litellm/proxy-config", "config.yaml"
# The digest in the env is written `sha256:<hex>` (the OCI notation): self-describing, and not a bare 64-hex string,
# which is what the secret scan rightly flags as a possible hex-encoded key.
DIGEST_PREFIX = "sha256:"
# Secret Manager's limit on one version's payload.
MAX_PAYLOAD_BYTES = 64 * 1024
# `sys.exit(<text>)` exits 1 with the text on stderr; an `assert` would vanish under PYTHONOPTIMIZE.
HOOKS_DIR = "/etc/litellm/proxy-hooks"
# The mounted hook files and their digests: `<path>|sha256:<hex>`, comma-separated.
HOOK_DIGESTS_ENV = "LLMGW_PROXY_HOOK_DIGESTS"
CHECK_COMMAND = (
    'python -c "import hashlib, os, sys; e = os.environ; '
    f"d = lambda p: '{DIGEST_PREFIX}' + hashlib.sha256(open(p, 'rb').read()).hexdigest(); "
    f"files = [(e['{CONFIG_FILE_ENV}'], e['{CONFIG_SHA_ENV}'])] "
    f"+ [tuple(x.split('|')) for x in e.get('{HOOK_DIGESTS_ENV}', '').split(',') if x]; "
    "bad = [p for p, h in files if d(p) != h]; "
    "sys.exit('proxy config digest mismatch: ' + ', '.join(bad) if bad else 0)\""
)


@dataclass(frozen=True)
class GatewayProxyConfigProps:
    secret_id: str
    proxy_config: ProxyConfig
    # Component -> IAM member of the identities whose containers load the document (and nobody else).
    readers: Mapping[str, str]
    production: bool
    depends_on: Sequence[ITerraformDependable] = field(default_factory=tuple)


class GatewayProxyConfig(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayProxyConfigProps) -> None:
        super().__init__(scope, construct_id)
        if not props.readers:
            raise PropsError("proxy_config.readers", "no identity loads the proxy config; name at least one")
        size = len(props.proxy_config.text.encode("utf-8"))
        if size > MAX_PAYLOAD_BYTES:
            raise PropsError(
                "models",
                f"the rendered LiteLLM config is {size} bytes, over Secret Manager's {MAX_PAYLOAD_BYTES}-byte limit",
            )
        self.digest = f"{DIGEST_PREFIX}{props.proxy_config.sha256}"
        self.secret = GatewaySecret(
            self,
            "secret",
            GatewaySecretProps(
                secret_id=props.secret_id,
                env_var="",
                production=props.production,
                state_value=props.proxy_config.text,
                pin_version=True,
                depends_on=props.depends_on,
            ),
        )
        # The services wait for these: a revision whose identity cannot read its mounts fails to start.
        self.hook_grants: dict[str, list[ITerraformDependable]] = {}
        self.grants: dict[str, ITerraformDependable] = {
            component: self.secret.grant_read(member, component) for component, member in sorted(props.readers.items())
        }
        self.file = SecretFile(secret=self.secret, volume="proxy-config", mount_dir=CONFIG_DIR, file_name=CONFIG_FILE)
        self.hook_files: list[SecretFile] = []
        hook_digests = []
        for hook in props.proxy_config.hooks:
            module = hook.name.removesuffix(".py")
            secret = GatewaySecret(
                self,
                f"hook-{module}",
                GatewaySecretProps(
                    secret_id=f"{props.secret_id}-{module.replace('_', '-')}",
                    env_var="",
                    production=props.production,
                    state_value=hook.text,
                    pin_version=True,
                    depends_on=props.depends_on,
                ),
            )
            for component, member in sorted(props.readers.items()):
                self.hook_grants.setdefault(component, []).append(secret.grant_read(member, component))
            hook_file = SecretFile(
                secret=secret,
                volume=f"proxy-hook-{module}".replace("_", "-"),
                mount_dir=f"{HOOKS_DIR}/{module}",
                file_name=hook.name,
            )
            self.hook_files.append(hook_file)
            hook_digests.append(f"{hook_file.path}|{DIGEST_PREFIX}{hook.sha256}")
        self.files = [self.file, *self.hook_files]
        self.env: dict[str, str] = {CONFIG_FILE_ENV: self.file.path, CONFIG_SHA_ENV: self.digest}
        if self.hook_files:
            self.env |= {
                HOOK_DIGESTS_ENV: ",".join(hook_digests),
                "PYTHONPATH": ":".join(item.mount_dir for item in self.hook_files),
            }
        self.check = CHECK_COMMAND
