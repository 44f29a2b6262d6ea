"""``python -m tools.rds_ca fetch|refresh|check``: the RDS CA asset from the pinned AWS package (see __init__.py)."""

from __future__ import annotations

import argparse
import sys

from tools.rds_ca import ASSET, MEMBER, SourceError, aws_bundle, fetch, pinned, verified_wheel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.rds_ca", description=__doc__)
    parser.add_argument("command", choices=["fetch", "refresh", "check"])
    command = parser.parse_args(argv).command
    pin = pinned()
    try:
        wheel = fetch(pin) if command in ("fetch", "refresh") else verified_wheel(pin)
        bundle = aws_bundle(wheel)
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    source = f"{pin.name}=={pin.version}:{MEMBER}"
    if command == "refresh":
        ASSET.write_bytes(bundle)
        print(f"wrote {ASSET} from {source}")
    elif command == "check" and ASSET.read_bytes() != bundle:
        print(f"error: {ASSET} differs from {source}: run `python -m tools.rds_ca refresh`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
