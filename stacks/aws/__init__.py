"""AWS stacks: `aws-<env>` (gateway), `aws-<env>-quotas`, `aws-bootstrap`."""
