"""Serve one provider schema: as a plugin Terraform starts (a terraform-provider-<name> shim named in a
`dev_overrides` entry), or with `--reattach SOCKET` as a long-lived server for TF_REATTACH_PROVIDERS."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools.standin_provider.server import serve, serve_reattach


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.standin_provider", description=__doc__)
    parser.add_argument(
        "--schema", type=Path, required=True, help="schema file, `terraform providers schema -json` format"
    )
    parser.add_argument("--address", required=True, help="provider address, e.g. registry.terraform.io/hashicorp/aws")
    parser.add_argument("--cache", type=Path, required=True, help="directory for compiled protos and encoded schemas")
    parser.add_argument(
        "--reattach",
        type=Path,
        metavar="SOCKET",
        help="serve on this Unix socket until stdin closes, printing the TF_REATTACH_PROVIDERS entry",
    )
    parser.add_argument(
        "--served-types",
        type=Path,
        metavar="FILE",
        help="with --reattach: JSON {schema kind: [type, ...]} of the only types to serve (default: every type)",
    )
    args = parser.parse_args(argv)
    if args.reattach:
        served = json.loads(args.served_types.read_text()) if args.served_types else None
        return serve_reattach(args.schema, args.address, args.cache, args.reattach, served)
    return serve(args.schema, args.address, args.cache)


if __name__ == "__main__":
    sys.exit(main())
