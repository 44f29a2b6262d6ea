"""Alibaba Cloud constructs, on the generated bindings in `imports/alicloud` (no prebuilt package exists)."""
