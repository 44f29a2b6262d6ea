"""Alibaba Cloud stacks: `alicloud-<env>` (gateway), `alicloud-<env>-quotas`, `alicloud-bootstrap`."""
