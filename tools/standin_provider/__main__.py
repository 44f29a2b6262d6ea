"""Entry point Terraform runs (through a terraform-provider-<name> shim) for one provider schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.standin_provider.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.standin_provider", description=__doc__)
    parser.add_argument(
        "--schema", type=Path, required=True, help="schema file, `terraform providers schema -json` format"
    )
    parser.add_argument("--address", required=True, help="provider address, e.g. registry.terraform.io/hashicorp/aws")
    parser.add_argument("--cache", type=Path, required=True, help="directory for compiled protos and encoded schemas")
    args = parser.parse_args(argv)
    return serve(args.schema, args.address, args.cache)


if __name__ == "__main__":
    sys.exit(main())
