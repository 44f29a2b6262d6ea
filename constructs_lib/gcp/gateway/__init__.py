"""The LiteLLM gateway on Google Cloud as one pattern: `GcpGateway(scope, GcpGatewayProps(...))`.

Files: props.py (what it is built from, the cross-section refusals); credentials.py (master key, salt key, provider
keys); stores.py (what a data store answers), database_stores.py and cache_stores.py (one class per `source`);
containers.py (start commands, PgBouncer, the spend collector); runtime.py (Cloud Run services or
dependencies-only); gateway.py (the composition).
"""

from constructs_lib.gcp.gateway.gateway import GcpGateway, proxy_runtime
from constructs_lib.gcp.gateway.props import GcpGatewayProps

__all__ = ["GcpGateway", "GcpGatewayProps", "proxy_runtime"]
