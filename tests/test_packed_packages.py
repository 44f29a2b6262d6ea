"""The big prebuilt providers go into the jsii package cache as a few files, which the kernel loads as its own."""

from __future__ import annotations

import ast
import io
import json
import multiprocessing
import os
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from stacks.catalog import PREBUILT_PROVIDERS
from synth_speed import packed_packages
from synth_speed.lean_imports import LAZY_INDEX_NODE_OPTION
from tests.conftest import REPO

RANDOM = packed_packages.assembly_of("cdktf_cdktf_provider_random")


def _members(tarball: Path) -> dict[str, bytes]:
    """Regular files of a package tarball by path inside the package, as the kernel extracts them."""
    with tarfile.open(tarball, "r:gz") as archive:
        return {
            member.name.split("/", 1)[1]: archive.extractfile(member).read() for member in archive if member.isfile()
        }


def _files_under(directory: Path) -> set[str]:
    return {path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file()}


def _env(**changes: str | None) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if key not in ("NODE_OPTIONS", "LLMGW_NAIVE_PROVIDER_IMPORTS")
    }
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def test_the_pinned_kernel_still_has_the_marker_and_features_this_module_copies():
    import jsii  # the pinned version: tests/test_kernel_channel.py

    bundle = (Path(jsii.__file__).parent / "_embedded" / "jsii" / "lib__program.js").read_text()
    features = json.dumps(list(packed_packages.KERNEL_SUPPORTED_FEATURES), separators=(",", ":"))
    assert f"ASSEMBLY_SUPPORTED_FEATURES={features}" in bundle
    assert f'"{packed_packages.MARKER_FILE}"' in bundle
    assert packed_packages._runtime_index_worker() is not None


def test_a_packed_entry_holds_every_file_but_the_modules_and_declarations_which_are_in_the_pack(tmp_path):
    name, version, tarball = RANDOM
    entry = packed_packages._ensure_entry(tmp_path, name, version, tarball)
    assert entry == packed_packages.entry_path(tmp_path, name, version, tarball)
    members = _members(tarball)
    packed = {path for path in members if path.startswith("lib/") and path.endswith(".js")} - {
        "lib/index.js",
        "lib/lazy-index.js",
    }
    on_disk = {path for path in members if not path.endswith(".d.ts")} - packed
    runtime_index = {path for path in _files_under(entry) if path.startswith(".jsii.runtime")}
    assert _files_under(entry) == on_disk | runtime_index | {
        packed_packages.MARKER_FILE,
        packed_packages.PACK_FILE,
        packed_packages.PACK_INDEX,
    }
    assert {".jsii.runtime.v1.json", ".jsii.runtime-index.v1", ".jsii.runtime-defs.v1.jsonl"} == runtime_index
    for path in on_disk:
        assert (entry / path).read_bytes() == members[path], path
    index = json.loads((entry / packed_packages.PACK_INDEX).read_text())
    assert index["format"] == packed_packages.PACK_FORMAT and set(index["modules"]) == packed
    pack = (entry / packed_packages.PACK_FILE).read_bytes()
    for path, (offset, length) in index["modules"].items():
        assert pack[offset : offset + length] == members[path], path
    assert list((tmp_path / ".llmgw-partial").iterdir()) == [tmp_path / ".llmgw-partial" / f"{entry.name}.lock"]


# The small stack of test_lean_imports, with the random provider packed as the big ones are.
PACKED_RANDOM_SYNTH = textwrap.dedent(
    """
    import sys
    import synth_speed
    synth_speed.enable()
    from synth_speed import packed_packages
    packed_packages.PACKED_PACKAGES = packed_packages.PACKED_PACKAGES | {"@cdktf/provider-random"}
    import cdktf
    from cdktf_cdktf_provider_random.provider import RandomProvider
    from cdktf_cdktf_provider_random.password import Password
    app = cdktf.App(outdir=sys.argv[1])
    stack = cdktf.TerraformStack(app, "probe")
    RandomProvider(stack, "random")
    password = Password(stack, "pw", length=32, special=False, keepers={"v": "1"})
    cdktf.TerraformOutput(stack, "password-id", value=password.id)
    app.synth()
    """
)


def _random_synth(outdir: Path, **env: str | None) -> tuple[bytes, str]:
    result = subprocess.run(
        [sys.executable, "-c", PACKED_RANDOM_SYNTH, str(outdir)],
        cwd=REPO,
        env=_env(LLMGW_LAZY_INDEX_TRACE="1", **env),
        capture_output=True,
        text=True,
        check=True,
    )
    return (outdir / "stacks" / "probe" / "cdk.tf.json").read_bytes(), result.stderr


def test_the_kernel_loads_a_packed_entry_as_its_own_and_synthesizes_the_same_bytes(tmp_path):
    root = tmp_path / "cache"
    packed, packed_log = _random_synth(tmp_path / "packed", LLMGW_PACKAGE_CACHE=str(root))
    plain, plain_log = _random_synth(tmp_path / "plain", LLMGW_PACKAGE_CACHE="off")
    assert packed == plain
    assert "packed modules: " in packed_log and "packed modules: " not in plain_log
    entry = packed_packages.entry_path(root, *RANDOM)
    built = {
        path: (entry / path).stat().st_mtime_ns for path in _files_under(entry) if path != packed_packages.MARKER_FILE
    }

    again, again_log = _random_synth(tmp_path / "again", LLMGW_PACKAGE_CACHE=str(root))
    assert again == plain and "packed modules: " in again_log
    rebuilt = {
        path: (entry / path).stat().st_mtime_ns for path in _files_under(entry) if path != packed_packages.MARKER_FILE
    }
    assert rebuilt == built, "a warm load neither re-extracts the entry nor rebuilds its runtime index"


def test_when_the_entry_cannot_be_written_the_kernel_extracts_the_package_itself(tmp_path):
    root = tmp_path / "cache"
    root.mkdir()
    (root / ".llmgw-partial").write_text("a file where the private directory goes")
    packed, log = _random_synth(tmp_path / "packed", LLMGW_PACKAGE_CACHE=str(root))
    plain, _ = _random_synth(tmp_path / "plain", LLMGW_PACKAGE_CACHE="off")
    assert packed == plain
    assert "warning: @cdktf/provider-random: no packed package cache entry (" in log
    assert "packed modules: " not in log
    entry = packed_packages.entry_path(root, *RANDOM)
    assert (entry / packed_packages.MARKER_FILE).is_file() and not (entry / packed_packages.PACK_INDEX).exists()


def _fill(root: str) -> str:
    return str(packed_packages._ensure_entry(Path(root), *RANDOM))


def test_concurrent_processes_write_one_entry(tmp_path):
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        entries = pool.map(_fill, [str(tmp_path)] * 3)
    entry = packed_packages.entry_path(tmp_path, *RANDOM)
    assert entries == [str(entry)] * 3
    assert (entry / packed_packages.MARKER_FILE).is_file()
    assert [path.name for path in (tmp_path / ".llmgw-partial").iterdir()] == [f"{entry.name}.lock"]


def test_writing_an_entry_prunes_the_packages_entries_unused_for_the_ttl(tmp_path, monkeypatch):
    monkeypatch.setenv("JSII_RUNTIME_PACKAGE_CACHE_TTL", "20")
    name, version, tarball = RANDOM
    old = {}
    for label, days in (("unused", 21), ("recent", 19)):
        entry = tmp_path.joinpath(*packed_packages._key_segments(name, f"0.0.{days}", f"{label}-digest"))
        (entry / "lib").mkdir(parents=True)
        (entry / packed_packages.MARKER_FILE).touch()
        stamp = time.time() - days * 86_400
        os.utime(entry / packed_packages.MARKER_FILE, (stamp, stamp))
        old[label] = entry
    other_package = tmp_path / "cdktf" / "0.0.1" / "digest"
    other_package.mkdir(parents=True)
    (other_package / packed_packages.MARKER_FILE).touch()
    os.utime(other_package / packed_packages.MARKER_FILE, (0, 0))

    entry = packed_packages._ensure_entry(tmp_path, name, version, tarball)
    assert entry is not None and (entry / packed_packages.MARKER_FILE).is_file()
    assert not old["unused"].exists()
    assert (old["recent"] / packed_packages.MARKER_FILE).is_file()
    assert other_package.exists(), "only the packed package's own entries: the kernel's are jsii's to prune"
    assert [path.suffix for path in (tmp_path / ".llmgw-partial").glob("*/")] == []


def test_an_abandoned_partial_entry_is_replaced(tmp_path):
    entry = packed_packages.entry_path(tmp_path, *RANDOM)
    abandoned = tmp_path / ".llmgw-partial" / f"{entry.name}.4242-dead"
    (abandoned / "lib").mkdir(parents=True)
    (abandoned / "lib" / "half-written.js").write_text("exports.x =")
    assert packed_packages._ensure_entry(tmp_path, *RANDOM) == entry
    assert not abandoned.exists() and not (entry / "lib" / "half-written.js").exists()


@pytest.mark.parametrize(
    "index", ['{"format": 0, "pack": "x", "modules": {}}', "{not json"], ids=["old-format", "damaged"]
)
def test_an_entry_packed_in_another_format_is_replaced(tmp_path, index):
    entry = packed_packages._ensure_entry(tmp_path, *RANDOM)
    (entry / packed_packages.PACK_INDEX).write_text(index)
    assert packed_packages._ensure_entry(tmp_path, *RANDOM) == entry
    assert json.loads((entry / packed_packages.PACK_INDEX).read_text())["format"] == packed_packages.PACK_FORMAT
    assert [path.suffix for path in (tmp_path / ".llmgw-partial").iterdir()] == [".lock"]


def test_an_entry_the_kernel_extracted_itself_is_used_as_it_is(tmp_path):
    entry = packed_packages.entry_path(tmp_path, *RANDOM)
    (entry / "lib").mkdir(parents=True)
    (entry / packed_packages.MARKER_FILE).touch()
    assert packed_packages._ensure_entry(tmp_path, *RANDOM) == entry
    assert _files_under(entry) == {packed_packages.MARKER_FILE}


def _tarball(tmp_path: Path, files: dict[str, bytes], link: str | None = None) -> Path:
    path = tmp_path / "package.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(f"package/{link}")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
    return path


@pytest.mark.parametrize(
    ("files", "link"),
    [
        ({"package.json": b'{"name": "x"}', "lib/a.js": b""}, "lib/b.js"),
        ({"package.json": b'{"name": "x", "type": "module"}', "lib/a.js": b""}, None),
        ({"package.json": b'{"name": "x"}', "lib/a.js": b"", "lib/sub/package.json": b"{}"}, None),
        ({"package.json": b'{"name": "x"}', "lib/a.js": b"", "lib/data.json": b"{}"}, None),
        ({"package.json": b'{"name": "x"}', "../escape.js": b""}, None),
        ({"package.json": b'{"name": "x"}'}, None),
    ],
    ids=["link", "es-module", "nested-package-json", "other-files-in-lib", "outside", "no-modules"],
)
def test_a_package_this_does_not_reproduce_is_left_to_the_kernel(tmp_path, files, link):
    tarball = _tarball(tmp_path, files, link)
    root = tmp_path / "cache"
    assert packed_packages._ensure_entry(root, "x", "1.0.0", tarball) is None
    assert not packed_packages.entry_path(root, "x", "1.0.0", tarball).exists()
    assert [path.suffix for path in (root / ".llmgw-partial").iterdir()] == [".lock"]


def test_an_assembly_the_index_worker_cannot_read_still_gives_an_entry_without_index(tmp_path):
    """Best effort, as in the kernel: its first load then parses the assembly and builds the index itself."""
    files = {".jsii": b"not an assembly", "package.json": b'{"name": "x"}', "lib/a.js": b"exports.a = 1;"}
    entry = packed_packages._ensure_entry(tmp_path / "cache", "x", "1.0.0", _tarball(tmp_path, files))
    assert entry is not None and (entry / packed_packages.MARKER_FILE).is_file()
    assert (entry / ".jsii").read_bytes() == b"not an assembly"
    assert not list(entry.glob(".jsii.runtime*"))


def test_only_the_big_providers_are_packed(tmp_path):
    assert packed_packages.ensure(tmp_path, *RANDOM) is None
    assert not tmp_path.joinpath("@cdktf").exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "default"),
        ({"LLMGW_PACKAGE_CACHE": "{tmp}/somewhere/else"}, "{tmp}/somewhere/else"),
        ({"LLMGW_PACKAGE_CACHE": "off"}, None),
        ({"JSII_RUNTIME_PACKAGE_CACHE_ROOT": "/chosen"}, None),  # the user's root: jsii's own entries only
        ({"JSII_RUNTIME_PACKAGE_CACHE": "disabled"}, None),
        ({"JSII_RUNTIME_PACKAGE_CACHE": "1"}, None),  # jsii reads anything but "enabled" as disabled
    ],
)
def test_cache_root_follows_the_switches(monkeypatch, tmp_path, env, expected):
    for key in ("LLMGW_PACKAGE_CACHE", "JSII_RUNTIME_PACKAGE_CACHE_ROOT", "JSII_RUNTIME_PACKAGE_CACHE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(tmp=tmp_path))
    if expected == "default":
        expected = str(tmp_path / "llm-gateway-cdktf" / "jsii-package-cache")
    elif expected:
        expected = expected.format(tmp=tmp_path)
    root = packed_packages.cache_root()
    assert (str(root) if root else None) == expected


def test_a_root_that_cannot_be_created_turns_the_step_off(monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("")
    monkeypatch.delenv("JSII_RUNTIME_PACKAGE_CACHE_ROOT", raising=False)
    monkeypatch.delenv("JSII_RUNTIME_PACKAGE_CACHE", raising=False)
    monkeypatch.setenv("LLMGW_PACKAGE_CACHE", str(tmp_path / "a-file" / "cache"))
    assert packed_packages.cache_root() is None
    monkeypatch.setenv("LLMGW_PACKAGE_CACHE", "relative/cache")
    monkeypatch.chdir(tmp_path)
    assert packed_packages.cache_root() == tmp_path / "relative" / "cache"


def _imported_prebuilt_packages(directory: Path) -> set[str]:
    found: set[str] = set()
    for path in directory.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            found.update(name.split(".")[0] for name in names if name.startswith("cdktf_cdktf_provider_"))
    return found - {"cdktf_cdktf_provider_random"}  # small: extracted by the kernel


@pytest.mark.parametrize("cloud", sorted(PREBUILT_PROVIDERS))
def test_each_cloud_prefetches_exactly_the_big_providers_its_stacks_import(cloud):
    imported = _imported_prebuilt_packages(REPO / "constructs_lib" / cloud) | _imported_prebuilt_packages(
        REPO / "stacks" / cloud
    )
    assert imported == set(PREBUILT_PROVIDERS[cloud])
    for python_package in PREBUILT_PROVIDERS[cloud]:
        assert packed_packages.assembly_of(python_package)[0] in packed_packages.PACKED_PACKAGES


# Node: a packed package, as a cache entry holds it, required through the preload the way the kernel does.
PROBE = textwrap.dedent(
    """
    const fs = require('fs');
    const closure = require(require.resolve(process.argv[1]));
    const report = { a: closure.a, onDisk: fs.existsSync(closure.a.file) };
    report.loaded = Object.keys(require.cache).filter((file) => file.startsWith(process.argv[1])).sort();
    console.log(JSON.stringify(report));
    """
)


def _packed_package(tmp_path: Path, modules: dict[str, str], on_disk: dict[str, str]) -> Path:
    root = tmp_path / "node_modules" / "@cdktf" / "provider-fake"
    (root / "lib").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "@cdktf/provider-fake", "main": "lib/index.js"}))
    (root / "lib" / "index.js").write_text("throw new Error('the eager index must not run');\n")
    (root / "lib" / "lazy-index.js").write_text(
        "Object.defineProperty(exports, 'a', { get: function () { return require('./a'); } });\n"
    )
    for path, source in on_disk.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(source)
    index, pack = {}, b""
    for path, source in modules.items():
        index[path] = [len(pack), len(source.encode())]
        pack += source.encode()
    (root / packed_packages.PACK_FILE).write_bytes(pack)
    document = {"format": packed_packages.PACK_FORMAT, "pack": Path(packed_packages.PACK_FILE).name, "modules": index}
    (root / packed_packages.PACK_INDEX).write_text(json.dumps(document))
    return root


def _require(root: Path) -> subprocess.CompletedProcess[str]:
    env = _env(NODE_OPTIONS=LAZY_INDEX_NODE_OPTION)
    return subprocess.run(["node", "-e", PROBE, str(root)], env=env, capture_output=True, text=True)


def test_the_preload_serves_packed_modules_in_nodes_resolution_order(tmp_path):
    modules = {
        "lib/a/index.js": (
            "exports.file = __filename; exports.b = require('../b'); exports.c = require('../c.js');"
            " exports.d = require('../d'); exports.path = require('path').sep;"
        ),
        "lib/b.js": "exports.file = __filename;",
        "lib/b/index.js": "throw new Error('b.js comes before b/index.js');",
        "lib/c.js": "exports.file = __filename;",
    }
    root = _packed_package(tmp_path, modules, on_disk={"lib/d.js": "exports.file = __filename;"})
    result = _require(root)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    lib = root / "lib"
    assert report["a"] == {
        "file": str(lib / "a" / "index.js"),
        "b": {"file": str(lib / "b.js")},
        "c": {"file": str(lib / "c.js")},
        "d": {"file": str(lib / "d.js")},  # not in the pack: from disk, as usual
        "path": os.sep,
    }
    assert report["onDisk"] is False, "served from the pack"
    assert report["loaded"] == sorted(
        str(lib / name) for name in ("a/index.js", "b.js", "c.js", "d.js", "lazy-index.js")
    )


def test_a_truncated_pack_fails_naming_the_pack(tmp_path):
    root = _packed_package(tmp_path, {"lib/a/index.js": "exports.file = __filename;"}, on_disk={})
    (root / packed_packages.PACK_FILE).write_bytes(b"exports")
    result = _require(root)
    assert result.returncode != 0
    assert f"{root / packed_packages.PACK_FILE}: truncated at {root / 'lib' / 'a' / 'index.js'}" in result.stderr


def test_an_unknown_pack_format_fails_naming_the_index(tmp_path):
    root = _packed_package(tmp_path, {"lib/a/index.js": "exports.file = __filename;"}, on_disk={})
    (root / packed_packages.PACK_INDEX).write_text(json.dumps({"format": 99, "pack": "x", "modules": {}}))
    result = _require(root)
    assert result.returncode != 0
    assert f"{root / packed_packages.PACK_INDEX}: unknown pack format 99" in result.stderr
