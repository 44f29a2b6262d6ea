"""`alicloud-dev` applied offline (tools/offline_apply): a provider key put in out of band never reaches state.

The harness's `alicloud_kms_secret` stand-in mirrors the provider's Read (resource_alicloud_kms_secret.go:270 at
v1.289.0 sets `secret_data` from GetSecretValue): were a provider-key secret a Terraform resource, the refresh after
the operator puts the real key would copy it into state. The stack keeps provider keys as names only, so the key
lands in KMS (what the gateway reads) and nowhere in Terraform's state.
"""

from __future__ import annotations

import secrets

import pytest

from constructs_lib.config import load_all
from tests.conftest import CONFIG_DIR
from tools.offline_apply import OfflineApply

pytestmark = pytest.mark.drill


@pytest.fixture(scope="module")
def alicloud_dev(tmp_path_factory):
    import main
    from stacks.catalog import stack_specs

    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    main.synthesize(main.select(stack_specs(load_all(CONFIG_DIR)), "alicloud-dev"), out, jobs=1)
    return out


def test_a_provider_key_put_in_out_of_band_never_reaches_terraform_state(alicloud_dev, tmp_path):
    config = {loaded.config.env: loaded.config for loaded in load_all(CONFIG_DIR)}["dev"]
    keys = {item.name: "sk-" + secrets.token_urlsafe(32) for item in config.provider_keys}
    with OfflineApply(out_dir=alicloud_dev, work_dir=tmp_path / "work") as harness:
        harness.apply("alicloud-dev").check()
        store = harness.store("alicloud")
        for item in config.provider_keys:
            # What `tools.alicloud_secret create/put` does: the secret and its version v<version>, out of band.
            name = f"acme-dev-provider-{item.name}"
            if store.describe(name) is None:
                store.create_secret(name)
            harness.put_secret("alicloud", name, keys[item.name], version=f"v{item.version}")
        harness.refresh("alicloud-dev").check()
        state = harness.state_text("alicloud-dev")
        assert state, "no state: the apply did not run"
        for name, key in keys.items():
            assert key not in state, f"the {name} key reached Terraform state"
        assert harness.plan("alicloud-dev").empty
        # The gateway reads each key at its pinned version from KMS.
        for item in config.provider_keys:
            read = harness.secret_value("alicloud", f"acme-dev-provider-{item.name}", f"v{item.version}")
            assert read == keys[item.name]
