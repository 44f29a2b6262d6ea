"""Global external Application Load Balancer (EXTERNAL_MANAGED) in front of the Cloud Run services.

    lb = GatewayLoadBalancer(self, "lb", GatewayLoadBalancerProps(naming=..., region=..., config=gcp.load_balancer,
        services={"gateway": gw.name, "backend": be.name, "ui": ui.name}, default_component="backend",
        rules=url_map_rules(...)))
    lb.ip_address, lb.url

One serverless NEG and one logged backend service per component; the URL map routes the shared path list
(url_map_paths.py). HTTPS with a Google-managed certificate for `lb_domains`, an SSL policy with TLS 1.2 minimum
(MODERN or RESTRICTED), and port 80 answering only with a redirect to HTTPS. Plain HTTP serving happens only
with `allow_plaintext` and no domains. An optional Cloud Armor policy bans clients above a request rate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_google.compute_backend_service import (
    ComputeBackendService,
    ComputeBackendServiceBackend,
    ComputeBackendServiceLogConfig,
)
from cdktf_cdktf_provider_google.compute_global_address import ComputeGlobalAddress
from cdktf_cdktf_provider_google.compute_global_forwarding_rule import ComputeGlobalForwardingRule
from cdktf_cdktf_provider_google.compute_managed_ssl_certificate import (
    ComputeManagedSslCertificate,
    ComputeManagedSslCertificateManaged,
)
from cdktf_cdktf_provider_google.compute_region_network_endpoint_group import (
    ComputeRegionNetworkEndpointGroup,
    ComputeRegionNetworkEndpointGroupCloudRun,
)
from cdktf_cdktf_provider_google.compute_security_policy import (
    ComputeSecurityPolicy,
    ComputeSecurityPolicyRule,
    ComputeSecurityPolicyRuleMatch,
    ComputeSecurityPolicyRuleMatchConfig,
    ComputeSecurityPolicyRuleRateLimitOptions,
    ComputeSecurityPolicyRuleRateLimitOptionsBanThreshold,
    ComputeSecurityPolicyRuleRateLimitOptionsRateLimitThreshold,
)
from cdktf_cdktf_provider_google.compute_ssl_policy import ComputeSslPolicy
from cdktf_cdktf_provider_google.compute_target_http_proxy import ComputeTargetHttpProxy
from cdktf_cdktf_provider_google.compute_target_https_proxy import ComputeTargetHttpsProxy
from cdktf_cdktf_provider_google.compute_url_map import (
    ComputeUrlMap,
    ComputeUrlMapDefaultUrlRedirect,
    ComputeUrlMapHostRule,
    ComputeUrlMapPathMatcher,
    ComputeUrlMapPathMatcherPathRule,
)
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib.config.gcp import GcpArmorConfig, GcpLoadBalancerConfig

SCHEME = "EXTERNAL_MANAGED"
MIN_TLS_VERSION = "TLS_1_2"
PATH_MATCHER = "litellm"
_DEFAULT_RULE_PRIORITY = 2147483647
# The components behind the load balancer that are administration, not the data plane.
ADMIN_COMPONENTS = ("backend", "ui")
ADMIN_ALLOW_PRIORITY = 500


@dataclass(frozen=True)
class GatewayLoadBalancerProps:
    naming: Naming
    region: str
    config: GcpLoadBalancerConfig
    # component -> Cloud Run service name
    services: Mapping[str, str]
    # Requests no rule matches (the management API).
    default_component: str
    # (component, URL-map paths) from url_map_rules()
    rules: Sequence[tuple[str, tuple[str, ...]]]


class GatewayLoadBalancer(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayLoadBalancerProps) -> None:
        super().__init__(scope, construct_id)
        config, naming = props.config, props.naming
        self._naming = naming
        if not config.lb_domains and not config.allow_plaintext:
            raise PropsError(
                "clouds.gcp.load_balancer.lb_domains",
                "the load balancer would serve plain HTTP only: list the DNS names for a Google-managed "
                "certificate (they must resolve to the LB IP, see the `lb_ip` output), or set "
                "clouds.gcp.load_balancer.allow_plaintext: true for a trial environment",
            )
        unknown = sorted({component for component, _ in props.rules} - set(props.services))
        if unknown or props.default_component not in props.services:
            raise ValueError(f"routes name components without a service: {unknown or [props.default_component]}")

        armor = self._armor(naming, config.armor) if config.armor.enabled else None
        # The management API (the default service) and the UI answer only the configured admin networks.
        admin_armor = self._admin_armor(naming, config.admin_ingress_cidrs)
        self.backend_services: dict[str, ComputeBackendService] = {}
        for component, service_name in props.services.items():
            neg = ComputeRegionNetworkEndpointGroup(
                self,
                f"{component}-neg",
                name=naming.name(f"{component}-neg", "google_compute"),
                region=props.region,
                network_endpoint_type="SERVERLESS",
                cloud_run=ComputeRegionNetworkEndpointGroupCloudRun(service=service_name),
            )
            self.backend_services[component] = ComputeBackendService(
                self,
                f"{component}-backend",
                name=naming.name(f"{component}-bs", "google_compute"),
                load_balancing_scheme=SCHEME,
                protocol="HTTPS",
                backend=[ComputeBackendServiceBackend(group=neg.id)],
                log_config=ComputeBackendServiceLogConfig(enable=True, sample_rate=config.log_sample_rate),
                security_policy=admin_armor.id if component in ADMIN_COMPONENTS else (armor.id if armor else None),
            )

        default_service = self.backend_services[props.default_component].id
        self.url_map = ComputeUrlMap(
            self,
            "routes",
            name=naming.name("routes", "google_compute"),
            default_service=default_service,
            host_rule=[ComputeUrlMapHostRule(hosts=["*"], path_matcher=PATH_MATCHER)],
            path_matcher=[
                ComputeUrlMapPathMatcher(
                    name=PATH_MATCHER,
                    default_service=default_service,
                    path_rule=[
                        ComputeUrlMapPathMatcherPathRule(paths=list(paths), service=self.backend_services[component].id)
                        for component, paths in props.rules
                    ],
                )
            ],
        )

        self.address = ComputeGlobalAddress(
            self, "ip", name=naming.name("lb-ip", "google_compute"), address_type="EXTERNAL", ip_version="IPV4"
        )
        if config.lb_domains:
            self._https(naming, config)
            http_url_map = ComputeUrlMap(
                self,
                "https-redirect",
                name=naming.name("https-redirect", "google_compute"),
                default_url_redirect=ComputeUrlMapDefaultUrlRedirect(
                    https_redirect=True, redirect_response_code="MOVED_PERMANENTLY_DEFAULT", strip_query=False
                ),
            )
            self.url = f"https://{config.lb_domains[0]}"
        else:
            http_url_map = self.url_map
            self.url = f"http://{self.address.address}"
        http_proxy = ComputeTargetHttpProxy(
            self, "http-proxy", name=naming.name("http", "google_compute"), url_map=http_url_map.id
        )
        self._forwarding_rule("http", "80", http_proxy.id)

    def _https(self, naming: Naming, config: GcpLoadBalancerConfig) -> None:
        # A managed certificate's domains are immutable: a new domain set is a new certificate. The name carries a
        # hash of the domains so the replacement can exist next to the old one (create_before_destroy), and the
        # proxy moves to it before the old one is deleted (a destroy-first replace fails: the cert is in use).
        digest = hashlib.sha256(",".join(sorted(config.lb_domains)).encode()).hexdigest()[:8]
        certificate = ComputeManagedSslCertificate(
            self,
            "certificate",
            name=naming.name(f"cert-{digest}", "google_compute"),
            managed=ComputeManagedSslCertificateManaged(domains=list(config.lb_domains)),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.ssl_policy = ComputeSslPolicy(
            self,
            "ssl-policy",
            name=naming.name("tls", "google_compute"),
            min_tls_version=MIN_TLS_VERSION,
            profile=config.ssl_policy_profile,
        )
        https_proxy = ComputeTargetHttpsProxy(
            self,
            "https-proxy",
            name=naming.name("https", "google_compute"),
            url_map=self.url_map.id,
            ssl_certificates=[certificate.id],
            ssl_policy=self.ssl_policy.id,
        )
        self._forwarding_rule("https", "443", https_proxy.id)

    def _forwarding_rule(self, name: str, port: str, target: str) -> ComputeGlobalForwardingRule:
        return ComputeGlobalForwardingRule(
            self,
            f"{name}-rule",
            name=self._naming.name(f"{name}-fr", "google_compute"),
            load_balancing_scheme=SCHEME,
            ip_protocol="TCP",
            port_range=port,
            ip_address=self.address.address,
            target=target,
        )

    def _admin_armor(self, naming: Naming, cidrs: Sequence[str]) -> ComputeSecurityPolicy:
        """Allow the admin networks (at most 10 ranges per rule: resource_compute_security_policy.go at v6.50.0,
        `src_ip_ranges`), deny everyone else with 403."""
        allow = [
            ComputeSecurityPolicyRule(
                priority=ADMIN_ALLOW_PRIORITY + index,
                action="allow",
                description="Admin networks",
                match=_from_ranges(cidrs[start : start + 10]),
            )
            for index, start in enumerate(range(0, len(cidrs), 10))
        ]
        return ComputeSecurityPolicy(
            self,
            "admin-armor",
            name=naming.name("admin-armor", "google_compute"),
            type="CLOUD_ARMOR",
            description="Management API and UI: the admin networks only",
            rule=[
                *allow,
                ComputeSecurityPolicyRule(
                    priority=_DEFAULT_RULE_PRIORITY,
                    action="deny(403)",
                    description="Default rule: not an admin network",
                    match=_from_ranges(["*"]),
                ),
            ],
        )

    def _armor(self, naming: Naming, armor: GcpArmorConfig) -> ComputeSecurityPolicy:
        everyone = _from_ranges(["*"])
        return ComputeSecurityPolicy(
            self,
            "armor",
            name=naming.name("armor", "google_compute"),
            type="CLOUD_ARMOR",
            description="Per-client-IP rate limit with a temporary ban above the ban rate",
            rule=[
                ComputeSecurityPolicyRule(
                    priority=1000,
                    action="rate_based_ban",
                    description="Throttle above requests_per_minute, ban above ban_requests_per_minute",
                    match=everyone,
                    rate_limit_options=ComputeSecurityPolicyRuleRateLimitOptions(
                        conform_action="allow",
                        exceed_action="deny(429)",
                        enforce_on_key="IP",
                        rate_limit_threshold=ComputeSecurityPolicyRuleRateLimitOptionsRateLimitThreshold(
                            count=armor.requests_per_minute, interval_sec=60
                        ),
                        ban_threshold=ComputeSecurityPolicyRuleRateLimitOptionsBanThreshold(
                            count=armor.ban_requests_per_minute, interval_sec=60
                        ),
                        ban_duration_sec=armor.ban_duration_seconds,
                    ),
                ),
                ComputeSecurityPolicyRule(
                    priority=_DEFAULT_RULE_PRIORITY, action="allow", description="Default rule", match=everyone
                ),
            ],
        )


def _from_ranges(ranges: Sequence[str]) -> ComputeSecurityPolicyRuleMatch:
    """A rule match on source IP ranges (`*`: everyone)."""
    return ComputeSecurityPolicyRuleMatch(
        versioned_expr="SRC_IPS_V1", config=ComputeSecurityPolicyRuleMatchConfig(src_ip_ranges=list(ranges))
    )
