"""A stand-in Terraform provider: serves any provider schema over the plugin protocol.

It lets the real `terraform validate` and `terraform plan` run offline on the synthesized stacks (Terraform does
the schema validation and planning, the stand-in answers with config values, unknown computed values and
well-typed placeholders for data sources), and, under the offline-apply harness (tools/offline_apply), apply,
read and destroy through per-resource behaviours (behaviours/). See docs/OFFLINE_PLAN.md.
"""
