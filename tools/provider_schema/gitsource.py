"""Read a Go package at a git tag straight from a mirror (no checkout, no network)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def _git(mirror: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(mirror), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


class GitPackage:
    """One Go package directory at one tag; answers "which file declares X" from ``git grep``."""

    def __init__(self, mirror: Path, tag: str, package_dir: str) -> None:
        if not (mirror / "objects").is_dir() and not (mirror / ".git").exists():
            msg = f"{mirror} is not a git mirror; fetch the provider repository first"
            raise FileNotFoundError(msg)
        self.mirror = mirror
        self.tag = tag
        self.package_dir = package_dir.rstrip("/")
        self.commit = _git(mirror, "rev-parse", f"{tag}^{{commit}}").strip()
        self.blobs: dict[str, str] = {}
        for line in _git(mirror, "ls-tree", self.commit, f"{self.package_dir}/").splitlines():
            meta, path = line.split("\t", 1)
            _mode, kind, sha = meta.split()
            if kind == "blob" and path.endswith(".go") and not path.endswith("_test.go"):
                self.blobs[path] = sha
        self._declarations = self._index_declarations()
        self._texts: dict[str, str] = {}

    def _grep(self, pattern: str) -> list[tuple[str, str]]:
        """(path, line) pairs of package files matching an extended regex at the pinned commit."""
        try:
            out = _git(self.mirror, "grep", "-E", pattern, self.commit, "--", f"{self.package_dir}/*.go")
        except subprocess.CalledProcessError as exc:
            if exc.returncode == 1:  # no match
                return []
            raise
        hits = []
        prefix = f"{self.commit}:"
        for line in out.splitlines():
            path, _, text = line.removeprefix(prefix).partition(":")
            if path in self.blobs:
                hits.append((path, text))
        return hits

    def _index_declarations(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for path, text in self._grep(r"^(func|var|const|type) [A-Za-z_]"):
            m = re.match(r"^(?:func|var|const|type) ([A-Za-z_][A-Za-z0-9_]*)", text)
            if m:
                index.setdefault(m.group(1), path)
        return index

    def file_declaring(self, name: str) -> str | None:
        if name in self._declarations:
            return self._declarations[name]
        # Names declared inside ``var (...)``/``const (...)`` groups are indented; look them up on demand.
        hits = sorted({path for path, _ in self._grep(rf"^\s+{re.escape(name)}(\s+[^=]+)?\s*=[^=]")})
        if hits:
            self._declarations[name] = hits[0]
            return hits[0]
        return None

    def read(self, path: str) -> str:
        if path not in self._texts:
            self._texts[path] = _git(self.mirror, "cat-file", "blob", self.blobs[path])
        return self._texts[path]
