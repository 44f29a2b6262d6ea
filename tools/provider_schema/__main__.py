"""``python -m tools.provider_schema``: re-derive the checked-in provider schemas from the mirrors.

Needs the git mirrors of the pinned provider repositories (see ``pins.py``); CI does not have them,
which is why the written files under ``imports/schemas/`` are the source of truth for the bindings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tools.provider_schema.extract import extract
from tools.provider_schema.gitsource import GitPackage
from tools.provider_schema.pins import PINS

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "imports" / "schemas"


def dump(data: dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SCHEMA_DIR, help="output directory")
    parser.add_argument(
        "--provider",
        choices=[pin.name for pin in PINS],
        action="append",
        help="only this provider (repeatable); default: all",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for pin in PINS:
        if args.provider and pin.name not in args.provider:
            continue
        source = GitPackage(pin.mirror, pin.tag, pin.package_dir)
        schema_doc, provenance = extract(pin, source)
        (args.out / f"{pin.stem}.json").write_text(dump(schema_doc), encoding="utf-8")
        (args.out / f"{pin.stem}.provenance.json").write_text(dump(provenance), encoding="utf-8")
        document = schema_doc["provider_schemas"][pin.provider_address]
        print(
            f"{pin.stem}: {len(document['resource_schemas'])} resources, "
            f"{len(document['data_source_schemas'])} data sources @ {source.commit[:12]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
