"""Stand-in cloud CLIs (`aws`, `gcloud`, `aliyun`) for the stacks' local-exec steps during an offline apply.

The executables beside this file are put first on PATH by the harness. Each checks the command line against the
real CLI's command model, records the call in `$LLMGW_OFFLINE_DIR/cli-calls.jsonl`, answers in the real CLI's
output shape and exit codes, and fails on request (`cli-failures.json`). See docs/OFFLINE_PLAN.md, "Stand-in CLIs".

The shims run this package as the top-level package `cli` (PYTHONPATH=tools/offline_apply), so the aws stand-in
can run in its own venv without importing the harness API in tools/offline_apply/__init__.py: modules here import
each other relatively and use the standard library only (aws.py also uses awscli, in .venv-awscli).
"""
