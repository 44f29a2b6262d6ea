"""Aurora's engine version survives AWS's automatic minor upgrades without a plan that would downgrade it.

The rule is the AWS provider's refresh of `engine_version` (hashicorp/terraform-provider-aws,
internal/service/rds/verify.go, `compareActualEngineVersion`, called from the cluster and cluster-instance reads):
the running version is written back to `engine_version` unless the configured value is that version with its
trailing parts omitted (configured "1.3", running "1.3.27": kept), or the running version is the pending one.
A written-back version that differs from the configuration is a plan to change it, here a downgrade to the pinned
minor, which ModifyDBCluster refuses. `engine_version_after_refresh` ports the function line by line.
"""

from __future__ import annotations

import pytest

from constructs_lib.config import ConfigError
from tests.test_aws_gateway import resources
from tests.test_aws_stack_options import PROD, _load, _synth


def engine_version_after_refresh(configured: str, running: str, pending: str = "") -> str:
    """verify.go: the `engine_version` the provider leaves in state after reading the running cluster."""
    if configured != "" and configured == pending:
        return configured
    running_prefix = running
    if len(running) > len(configured):
        running_prefix = running[: len(configured) + 1]
    if configured != running and configured + "." == running_prefix:
        return configured
    return running


def test_the_port_keeps_a_prefix_and_writes_back_anything_else():
    # The cases the provider's own comment names, and the drift this issue is about.
    assert engine_version_after_refresh("1.3", "1.3.27") == "1.3"
    assert engine_version_after_refresh("16.6", "16.9") == "16.9"
    assert engine_version_after_refresh("16.6", "16.6") == "16.6"


@pytest.mark.parametrize("later_minor", ["16.9", "16.10", "16.11.2"])
def test_a_later_minor_upgrade_by_aws_plans_no_change(tmp_path, later_minor):
    stack = _synth(_load(tmp_path, {}, base=PROD))
    cluster = next(iter(resources(stack, "aws_rds_cluster").values()))
    configured = cluster["engine_version"]
    assert engine_version_after_refresh(configured, later_minor) == configured, (
        f"engine_version {configured!r}: after AWS moves the cluster to {later_minor} the plan would set it back"
    )
    for instance in resources(stack, "aws_rds_cluster_instance").values():
        assert instance["auto_minor_version_upgrade"] is True
        # The instances follow the cluster's configured value, so the same rule holds for them.
        assert instance["engine_version"].startswith("${aws_rds_cluster.")
        assert instance["engine_version"].endswith(".engine_version}")


def test_a_pinned_minor_is_refused_naming_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"clouds\.aws\.database.*pin the major version only \(e\.g\. '16'\)"):
        _load(tmp_path, {"database": {"engine_version": "16.6"}}, base=PROD)
