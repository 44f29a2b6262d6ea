"""The gateway's customer-managed KMS key: secrets, Aurora, ElastiCache, the data bucket and the log groups.

The key policy is the default one (the account administers the key, IAM policies grant its use) plus CloudWatch
Logs, which cannot use a key through IAM: it may use this key only for log groups of this stack's prefix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct


@dataclass(frozen=True)
class GatewayKeyProps:
    prefix: str
    account_id: str
    region: str
    production: bool
    # Log groups outside the stack's prefix that AWS services export to (the RDS cluster's PostgreSQL log).
    extra_log_groups: Sequence[str] = ()


class GatewayKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayKeyProps) -> None:
        super().__init__(scope, construct_id)
        log_groups: str | list[str] = f"arn:aws:logs:{props.region}:{props.account_id}:log-group:/{props.prefix}/*"
        if props.extra_log_groups:
            log_groups = [
                log_groups,
                *(
                    f"arn:aws:logs:{props.region}:{props.account_id}:log-group:{name}"
                    for name in props.extra_log_groups
                ),
            ]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersKeyThroughIam",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{props.account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsOfThisStackOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{props.region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                },
            ],
        }
        self.key = KmsKey(
            self,
            "key",
            description=f"Encrypts the LiteLLM gateway data of {props.prefix}",
            enable_key_rotation=True,
            deletion_window_in_days=30 if props.production else 7,
            policy=json.dumps(policy, sort_keys=True),
        )
        KmsAlias(self, "alias", name=f"alias/{props.prefix}-gateway", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn
