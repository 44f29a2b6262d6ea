"""The LiteLLM gateway on AWS as one pattern: `AwsGateway(scope, AwsGatewayProps(config=..., naming=...))`.

Files: props.py (what it is built from, the cross-section refusals); credentials.py (master key, salt key, UI
password, provider keys); stores.py (what a data store answers), database_stores.py and cache_stores.py (one class
per `source`); proxy_files.py (the LiteLLM config and hooks in S3, fetched by version); task_identities.py (log
groups and IAM roles per task family); containers.py (launch commands, OTel, the gateway's sidecars); runtime.py
(Fargate services or dependencies-only); bedrock.py (the Custom Model Import role); gateway.py (the composition).
"""

from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.aws.gateway.gateway import AwsGateway
from constructs_lib.aws.gateway.props import AwsGatewayProps

__all__ = ["AwsGateway", "AwsGatewayProps", "GatewayOutput"]
