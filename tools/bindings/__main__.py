"""``python -m tools.bindings``: regenerate ``imports/<provider>/`` from ``imports/schemas/*.json``.

Reads only the checked-in schema files (no network, no mirror), writes deterministic output and
removes modules whose resource left the schema. ``--out DIR`` writes elsewhere (the drift test).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.bindings.generate import render_package

ROOT = Path(__file__).resolve().parents[2]
IMPORTS = ROOT / "imports"
SCHEMAS = IMPORTS / "schemas"
RUNTIME = Path(__file__).resolve().with_name("runtime.py")
RUNTIME_BANNER = "# Copied from tools/bindings/runtime.py by `python -m tools.bindings`; edit that file instead.\n"
IMPORTS_INIT = '"""Generated, typed provider bindings (see ``imports/README.md``); nothing is imported eagerly."""\n'


def schema_files(schemas: Path = SCHEMAS) -> list[Path]:
    """The provider schema documents, i.e. every ``<name>@<version>.json`` but the provenance."""
    return sorted(p for p in schemas.glob("*@*.json") if not p.name.endswith(".provenance.json"))


def generate(out: Path, schemas: Path = SCHEMAS) -> dict[Path, str]:
    """Every generated file (path under ``out`` -> text)."""
    files: dict[Path, str] = {
        out / "__init__.py": IMPORTS_INIT,
        out / "_runtime.py": RUNTIME_BANNER + RUNTIME.read_text(encoding="utf-8"),
    }
    for schema_path in schema_files(schemas):
        package = schema_path.name.split("@")[0]
        for name, text in render_package(schema_path).items():
            files[out / package / name] = text
    return files


def write(out: Path, files: dict[Path, str]) -> list[Path]:
    """Write files, deleting stale ``*.py`` modules from the generated package directories."""
    removed: list[Path] = []
    for package_dir in sorted({path.parent for path in files if path.parent != out}):
        if package_dir.is_dir():
            for stale in sorted(package_dir.glob("*.py")):
                if stale not in files:
                    stale.unlink()
                    removed.append(stale)
    for path, text in sorted(files.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMPORTS, help="root of the generated packages")
    args = parser.parse_args(argv)
    files = generate(args.out)
    removed = write(args.out, files)
    print(f"{len(files)} files under {args.out}" + (f", {len(removed)} stale removed" if removed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
