"""Google Cloud stacks: `gcp-<env>` (gateway), `gcp-<env>-quotas`, `gcp-bootstrap`."""
