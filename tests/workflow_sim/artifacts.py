"""What `actions/upload-artifact` puts into an artifact and where `actions/download-artifact` puts it back.

Upload (actions/upload-artifact, src/shared/search.ts `findFilesToUpload` and `getMultiPathLCA`, with
@actions/glob's `implicitDescendants: true`):
- each line of `path` is a pattern; a line starting with `!` excludes what it matches (a directory and
  everything below it);
- a pattern naming a directory matches every file below it; directories themselves are never uploaded;
- `include-hidden-files: false` (the default) leaves out every file or directory whose name starts with a dot;
- the artifact's root is the pattern's search path (the part before the first wildcard segment); with several
  search paths, their least common ancestor; a single file named without a wildcard is stored by its name alone;
- `if-no-files-found: error` fails the step when nothing matches; a second upload of the same name in one
  workflow run fails (artifacts are immutable since upload-artifact v4; the `overwrite` input is not used here).
Download (actions/download-artifact): `name` extracts that artifact into `path`; `pattern` with
`merge-multiple: true` extracts every matching artifact into `path`, without it each into `path/<name>`.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_WILDCARDS = set("*?[")


class ArtifactError(Exception):
    """What the real action would fail with."""


def _search_path(pattern: str) -> str:
    parts = PurePosixPath(pattern.rstrip("/")).parts
    literal = []
    for part in parts:
        if _WILDCARDS & set(part):
            break
        literal.append(part)
    return str(PurePosixPath(*literal)) if literal else "."


def _hidden(relative: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _files_under(workspace: Path, search: str, include_hidden: bool) -> list[str]:
    root = workspace / search
    if root.is_file():
        return [search]
    found = []
    for directory, dirnames, filenames in os.walk(root, followlinks=True):
        relative_dir = PurePosixPath(Path(directory).relative_to(workspace).as_posix())
        if not include_hidden:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if include_hidden or not name.startswith("."):
                found.append(str(relative_dir / name))
    return sorted(found)


def _matches(path: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return path == pattern or path.startswith(pattern + "/") or fnmatch.fnmatchcase(path, pattern)


def _lca(paths: list[str]) -> str:
    split = [PurePosixPath(p).parts for p in paths]
    common = []
    for items in zip(*split, strict=False):
        if len(set(items)) != 1:
            break
        common.append(items[0])
    return str(PurePosixPath(*common)) if common else "."


def _normalise(pattern: str) -> str:
    return str(PurePosixPath(os.path.normpath(pattern))) + ("/" if pattern.endswith("/") else "")


@dataclass
class ArtifactStore:
    """The artifacts of one workflow run: name -> {path inside the artifact: content}."""

    artifacts: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def upload(self, workspace: Path, inputs: dict) -> dict[str, bytes]:
        name = inputs.get("name") or "artifact"
        if name in self.artifacts:
            raise ArtifactError(f"an artifact named {name!r} already exists in this workflow run")
        lines = [line.strip() for line in str(inputs["path"]).splitlines() if line.strip()]
        includes = [_normalise(self._relative(workspace, line)) for line in lines if not line.startswith("!")]
        excludes = [_normalise(self._relative(workspace, line[1:])) for line in lines if line.startswith("!")]
        include_hidden = str(inputs.get("include-hidden-files", False)).lower() == "true"
        files: list[str] = []
        for pattern in includes:
            for path in _files_under(workspace, _search_path(pattern), include_hidden):
                if _matches(path, pattern) and path not in files:
                    files.append(path)
        files = [path for path in files if not any(_matches(path, pattern) for pattern in excludes)]
        if not files:
            if inputs.get("if-no-files-found", "warn") == "error":
                raise ArtifactError(f"no files were found with the provided path: {inputs['path']!r}")
            return {}
        searches = sorted({_search_path(pattern) for pattern in includes})
        # A search path below another one adds nothing (@actions/glob keeps the ancestor only).
        searches = [s for s in searches if not any(s != o and s.startswith(o.rstrip("/") + "/") for o in searches)]
        if len(searches) > 1:
            root = _lca(searches)
        elif len(files) == 1 and files[0] == searches[0]:
            root = str(PurePosixPath(files[0]).parent)
        else:
            root = searches[0]
        content = {
            str(PurePosixPath(path).relative_to(root)) if root != "." else path: (workspace / path).read_bytes()
            for path in files
        }
        self.artifacts[name] = content
        return content

    @staticmethod
    def _relative(workspace: Path, path: str) -> str:
        candidate = Path(path)
        if candidate.is_absolute():
            try:
                return candidate.relative_to(workspace).as_posix()
            except ValueError:
                raise ArtifactError(f"upload path {path!r} is outside the workspace") from None
        return path

    def download(self, workspace: Path, inputs: dict) -> list[str]:
        target = Path(inputs.get("path") or ".")
        target = target if target.is_absolute() else workspace / target
        if inputs.get("name"):
            if inputs["name"] not in self.artifacts:
                raise ArtifactError(f"artifact {inputs['name']!r} not found in this workflow run")
            self._extract(self.artifacts[inputs["name"]], target)
            return [inputs["name"]]
        pattern = inputs.get("pattern")
        if not pattern:
            raise ArtifactError("download without name or pattern is not modelled")
        names = sorted(name for name in self.artifacts if fnmatch.fnmatchcase(name, pattern))
        merge = str(inputs.get("merge-multiple", False)).lower() == "true"
        for name in names:
            self._extract(self.artifacts[name], target if merge else target / name)
        return names

    @staticmethod
    def _extract(content: dict[str, bytes], target: Path) -> None:
        for relative, data in content.items():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.is_symlink():
                destination.unlink()
            destination.write_bytes(data)


def copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
