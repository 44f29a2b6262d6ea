"""GCP: LITELLM_SALT_KEY, so a master-key rotation leaves the credentials LiteLLM stored readable.

The rule (the pinned LiteLLM, litellm/proxy/common_utils/encrypt_decrypt_utils.py:32-40 `get_salt_key`, :135
`encrypt_value_helper`, :189 `decrypt_value_helper`): stored credentials are encrypted with LITELLM_SALT_KEY, or
with the master key when it is unset. The first test runs that code: after a rotation only a salt key equal to the
key the credential was encrypted with (the old master key) decrypts it. Hence the migration of a live environment:
the salt key's first version is a copy of the current master key, and the master key rotates only after that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_lib.config import ConfigError
from tests.litellm_probe import run_litellm
from tests.test_gcp_stack_options import _load, _synth

# get_salt_key and _get_encryption_algorithm read only `master_key` and `general_settings` from
# litellm.proxy.proxy_server (encrypt_decrypt_utils.py:33, :55); that module needs the proxy extras to import, so the
# test gives it as a module holding just those. AES-256-GCM (general_settings.encryption_algorithm) needs only
# `cryptography`, which the LiteLLM check venv lacks: the project's pinned copy is put on the path by itself. Both
# algorithms derive their key from the same salt-or-master key (_derive_key), the rule under test.
_ROUND_TRIP = """
import os, sys, types
proxy_server = sys.modules["litellm.proxy.proxy_server"] = types.ModuleType("litellm.proxy.proxy_server")
proxy_server.general_settings = {"encryption_algorithm": "aes-256-gcm"}
from litellm.proxy.common_utils.encrypt_decrypt_utils import decrypt_value_helper, encrypt_value_helper
os.environ.pop("LITELLM_SALT_KEY", None)
proxy_server.master_key = sys.argv[1]                      # before: no salt key, the master key encrypts
stored = encrypt_value_helper("provider-credential")
proxy_server.master_key = sys.argv[2]                      # the master key rotated
if sys.argv[3]:
    os.environ["LITELLM_SALT_KEY"] = sys.argv[3]
print(decrypt_value_helper(stored, key="credential", exception_type="debug"))
"""
# Imported once for the three runs (tests/litellm_probe.py); importing litellm never looks up
# litellm.proxy.proxy_server (encrypt_decrypt_utils.py:33, :55 import it inside the functions), so the module set up
# above is in place when the functions run, as in a fresh process.
_IMPORTS = ("litellm.proxy.common_utils.encrypt_decrypt_utils",)


def _cryptography_only(tmp_path: Path) -> Path:
    """A directory holding just the project's pinned `cryptography` (and its cffi), for PYTHONPATH."""
    import cryptography

    packages = Path(cryptography.__file__).resolve().parent.parent
    target = tmp_path / "cryptography-only"
    target.mkdir()
    for entry in packages.iterdir():
        if entry.name in ("cryptography", "cffi") or entry.name.startswith(("_cffi_backend", "pycparser")):
            (target / entry.name).symlink_to(entry)
    return target


def _decrypted_after_rotation(tmp_path: Path, old_master: str, new_master: str, salt: str) -> str:
    path = tmp_path / "cryptography-only"
    if not path.exists():
        _cryptography_only(tmp_path)
    result = run_litellm(_ROUND_TRIP, [old_master, new_master, salt], {"PYTHONPATH": str(path)}, imports=_IMPORTS)
    result.check_returncode()
    return result.stdout.strip().splitlines()[-1]


def test_litellm_reads_stored_credentials_after_a_rotation_only_with_the_old_master_key_as_salt(tmp_path):
    old, new = "sk-old-master-0123456789", "sk-new-master-9876543210"
    assert _decrypted_after_rotation(tmp_path, old, new, salt="") == "None"
    assert _decrypted_after_rotation(tmp_path, old, new, salt="sk-some-other-salt") == "None"
    assert _decrypted_after_rotation(tmp_path, old, new, salt=old) == "provider-credential"


def _service_secrets(stack: dict, component: str) -> dict[str, dict]:
    (service,) = [
        body
        for body in stack["resource"]["google_cloud_run_v2_service"].values()
        if body["name"].endswith(f"-{component}")
    ]
    env = service["template"]["containers"][0]["env"]
    return {item["name"]: item["value_source"]["secret_key_ref"] for item in env if "value_source" in item}


def _salt_secret(stack: dict) -> tuple[str, dict]:
    ((name, body),) = [
        (name, body)
        for name, body in stack["resource"]["google_secret_manager_secret"].items()
        if body["secret_id"].endswith("-salt-key")
    ]
    return name, body


def test_a_live_environment_gets_the_salt_secret_and_reads_it_once_the_master_key_copy_is_in(tmp_path):
    # Step 1 (the default): the secret exists, nothing reads it yet (LiteLLM keeps using the master key).
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    before = _synth(_load(tmp_path / "a", {}))
    name, _ = _salt_secret(before)
    assert all("LITELLM_SALT_KEY" not in _service_secrets(before, c) for c in ("gateway", "backend"))
    # Nothing here writes a value: the operator copies the current master key in (README "Salt key").
    versions = before["resource"].get("google_secret_manager_secret_version", {}).values()
    assert not any(name in body["secret"] for body in versions)
    # Step 2: salt_key_version 1 -> both services read exactly that version.
    after = _synth(_load(tmp_path / "b", {"secrets": {"salt_key_version": 1}}))
    for component in ("gateway", "backend"):
        reference = _service_secrets(after, component)["LITELLM_SALT_KEY"]
        assert reference["version"] == "1" and name in reference["secret"]


def test_a_new_environment_can_generate_its_salt_key_write_only(tmp_path):
    stack = _synth(_load(tmp_path, {"secrets": {"salt_key": "generated", "salt_key_version": 1}}))
    name, _ = _salt_secret(stack)
    (version,) = [
        body for body in stack["resource"]["google_secret_manager_secret_version"].values() if name in body["secret"]
    ]
    assert "secret_data_wo" in version and "secret_data" not in version
    assert version["secret_data_wo_version"] == 1
    assert _service_secrets(stack, "gateway")["LITELLM_SALT_KEY"]["version"].startswith("${")


def test_the_master_key_cannot_rotate_before_the_salt_key_is_read(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    with pytest.raises(ConfigError, match=r"clouds\.gcp\.secrets.*master_key_version: rotating the master key"):
        _load(tmp_path / "a", {"secrets": {"master_key_version": 2}})
    # With the salt key in place the rotation is allowed.
    _load(tmp_path / "b", {"secrets": {"master_key_version": 2, "salt_key_version": 1}})
