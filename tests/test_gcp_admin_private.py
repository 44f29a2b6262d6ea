"""GCP: the management API and the UI are private by default; the data plane is not affected.

The external load balancer routes `/key/*`, `/user/*`, ... (the default service: the backend) and the UI's paths to
their Cloud Run services, so without a policy they answer the internet. Cloud Armor on those backend services
admits `load_balancer.admin_ingress_cidrs` and denies everyone else (403, the default rule at priority 2147483647);
a rule holds at most 10 ranges (google provider v6.50.0 resource_compute_security_policy.go, `src_ip_ranges`).
"""

from __future__ import annotations

from tests.test_gcp_stack_options import _load, _synth

OFFICE = [f"203.0.113.{index * 8}/29" for index in range(12)]


def _policies(stack: dict) -> tuple[dict[str, dict], dict[str, dict]]:
    """(component -> its backend service, policy reference -> policy)."""
    services = {
        body["name"].rsplit("-bs", 1)[0].rsplit("-", 1)[-1]: body
        for body in stack["resource"]["google_compute_backend_service"].values()
    }
    policies = {
        f"${{google_compute_security_policy.{name}.id}}": body
        for name, body in stack["resource"]["google_compute_security_policy"].items()
    }
    return services, policies


def _admits(policy: dict, address_range: str) -> bool:
    """Cloud Armor: the lowest-priority-number rule that matches decides (ranges compared as written here)."""
    for rule in sorted(policy["rule"], key=lambda rule: rule["priority"]):
        ranges = rule["match"]["config"]["src_ip_ranges"]
        if "*" in ranges or address_range in ranges:
            return not rule["action"].startswith("deny")
    return False


def test_by_default_nobody_reaches_the_management_api_or_the_ui_and_everyone_the_data_plane(tmp_path):
    services, policies = _policies(_synth(_load(tmp_path, {})))
    for component in ("backend", "ui"):
        policy = policies[services[component]["security_policy"]]
        default = max(policy["rule"], key=lambda rule: rule["priority"])
        assert default["priority"] == 2147483647 and default["action"] == "deny(403)"
        assert not _admits(policy, "198.51.100.7/32")
    gateway = policies[services["gateway"]["security_policy"]]
    assert _admits(gateway, "198.51.100.7/32")


def test_the_admin_networks_are_admitted_ten_ranges_per_rule(tmp_path):
    (tmp_path / "x").mkdir()
    services, policies = _policies(_synth(_load(tmp_path / "x", {"load_balancer": {"admin_ingress_cidrs": OFFICE}})))
    policy = policies[services["backend"]["security_policy"]]
    allow = [rule for rule in policy["rule"] if rule["action"] == "allow"]
    assert [len(rule["match"]["config"]["src_ip_ranges"]) for rule in allow] == [10, 2]
    assert all(_admits(policy, cidr) for cidr in OFFICE)
    assert not _admits(policy, "198.51.100.7/32")
    assert services["ui"]["security_policy"] == services["backend"]["security_policy"]
