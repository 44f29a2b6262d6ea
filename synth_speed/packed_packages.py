"""Put the big prebuilt provider packages into the jsii package cache as a few files, with their index built.

On its first load of a package, the jsii kernel extracts the package's tarball into its package cache (6,700
files and directories for ``@cdktf/provider-aws``, 4,450 for ``-google``), parses the whole assembly (130 MB
of JSON for AWS) and then starts a worker thread that parses it again to write a runtime index for later
loads, while the synth runs. A synth requires ~60 of the 2,231 JavaScript modules (``lazy_provider_index.js``)
and no ``.d.ts`` at all, and creating a file costs 0.03-1 ms of kernel time on the 2-core machines here.

``ensure(...)``, called before the kernel's load request, writes such a package's cache entry at the path,
and with the marker file, that the kernel looks for, so the kernel finds a complete entry and loads it as its
own: the package's files as they are, except that the modules under ``lib/`` (all but ``lib/index.js`` and
``lib/lazy-index.js``) are one pack file with a JSON index of byte ranges (the preload serves ``require``
from it), and no ``.d.ts``. Before the entry is complete, the kernel's own runtime index worker (shipped with
jsii) builds the index in it, overlapped with writing the pack, so the kernel's first load already reads the
index. ``prefetch(...)`` starts the same work in a thread, so that it overlaps the kernel's start-up.

An entry is written under an exclusive ``flock`` (another process waits, then finds it complete) into a
private directory, then renamed into place: a kernel sees either no entry or a complete one; an entry packed in
another format, or with a damaged index, is written again; writing one prunes that package's entries unused for
jsii's TTL. The entries
differ from jsii's own, so they live in a project cache root handed only to the kernels this project starts
(``kernel_channel``), never in jsii's shared root: ``$XDG_CACHE_HOME/llm-gateway-cdktf/jsii-package-cache``,
moved by ``LLMGW_PACKAGE_CACHE=<dir>``. The step is off (every package is extracted by the kernel, into
jsii's root) with ``LLMGW_PACKAGE_CACHE=off``, when ``JSII_RUNTIME_PACKAGE_CACHE_ROOT`` is set (the user
chose a root), when jsii's cache is disabled (``JSII_RUNTIME_PACKAGE_CACHE``), or when the root cannot be
written. A tarball holding anything
unexpected (a link, a path outside the package, an ES module package, under ``lib/`` anything but modules and
declarations) is left to the kernel. The key, the marker and the worker's inputs are those of the pinned jsii
(``kernel_channel.VERIFIED_JSII``).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from isal import igzip  # ISA-L's inflate: half the time of zlib's on these tarballs

from synth_speed.user_cache import project_cache_dir

PACKED_PACKAGES = frozenset({"@cdktf/provider-aws", "@cdktf/provider-google"})
CACHE_ENV = "LLMGW_PACKAGE_CACHE"
_OFF = frozenset({"off", "0", "false", "no"})

# Read by lazy_provider_index.js; relative to the package root.
PACK_FILE = "lib/.llmgw-modules.pack"
PACK_INDEX = "lib/.llmgw-modules.json"
PACK_FORMAT = 1
_KEPT_AS_FILES = frozenset({"lib/index.js", "lib/lazy-index.js"})

# jsii 1.142.0, kernel/src/disk-cache/disk-cache.ts: an entry is complete once this regular file exists.
MARKER_FILE = ".jsii-runtime-package-cache"
# kernel/src/kernel.ts: ASSEMBLY_SUPPORTED_FEATURES, which the kernel hands to its runtime index worker.
KERNEL_SUPPORTED_FEATURES = ("intersection-types", "class-covariant-overrides")
INDEX_BUILDER = Path(__file__).with_name("build_runtime_index.js")
_PARTIAL_DIR = ".llmgw-partial"

# What each prebuilt package's _jsii/__init__.py hands jsii's Kernel.load: name, version, tarball file name.
_ASSEMBLY_LOAD = re.compile(r'JSIIAssembly\.load\(\s*"([^"]+)",\s*"([^"]+)",\s*__name__\[0:-6\],\s*"([^"]+)"')
_prefetching: dict[str, threading.Thread] = {}


class _NotPackable(Exception):
    """The tarball holds something this module does not reproduce; the kernel extracts it instead."""


def default_cache_root() -> Path:
    return project_cache_dir("jsii-package-cache")


def cache_root() -> Path | None:
    """The package cache root for the kernels this project starts, or None when this step is off."""
    if os.name != "posix" or os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT"):
        return None
    if os.environ.get("JSII_RUNTIME_PACKAGE_CACHE", "enabled").lower() != "enabled":
        return None
    configured = os.environ.get(CACHE_ENV, "")
    if configured.lower() in _OFF:
        return None
    root = Path(configured).absolute() if configured else default_cache_root()
    # Unusable here (e.g. a read-only home): the kernel then keeps jsii's own root, as without this step.
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)  # as jsii creates a root: the kernel runs what it holds
    except OSError:
        return None
    return root if os.access(root, os.W_OK | os.X_OK) else None


def _key_segments(*key: str) -> list[str]:
    """jsii's ``DiskCache.entry`` path segments: other characters become ``_``, slashes separate segments."""
    segments: list[str] = []
    for part in key:
        segments.extend(re.split(r"[\\/]+", re.sub(r"[^@a-z0-9_.\\/-]+", "_", part)))
    if ".." in segments:
        raise ValueError(f"a package cache key cannot contain '..': {key}")
    return segments


@functools.cache
def _digest(tarball: str, size: int, mtime_ns: int, name: str, version: str) -> str:
    """jsii's ``tar-cache`` key: sha256 of the tarball's bytes, then of each of name and version after a NUL."""
    with open(tarball, "rb") as stream:
        digest = hashlib.file_digest(stream, "sha256")
    for comment in (name, version):
        digest.update(b"\0" + comment.encode())
    return digest.hexdigest()


def entry_path(root: Path, name: str, version: str, tarball: Path) -> Path:
    """Where the kernel looks for the cache entry of ``tarball`` (keyed as name/version/digest)."""
    stat = tarball.stat()
    digest = _digest(str(tarball), stat.st_size, stat.st_mtime_ns, name, version)
    return root.joinpath(*_key_segments(name, version, digest))


def _current(entry: Path) -> bool:
    """A complete entry that this version serves: extracted by the kernel itself, or packed in this format."""
    if not (entry / MARKER_FILE).is_file():
        return False
    try:
        return json.loads((entry / PACK_INDEX).read_bytes()).get("format") == PACK_FORMAT
    except FileNotFoundError:
        return True
    except ValueError:
        return False


def _member_path(member: tarfile.TarInfo) -> str:
    """The member's path inside the package (the kernel strips the first component), checked to stay inside."""
    parts = PurePosixPath(member.name).parts[1:]
    if not parts or member.name.startswith("/") or ".." in parts:
        raise _NotPackable(f"unexpected path {member.name!r}")
    return "/".join(parts)


def _runtime_index_worker() -> Path | None:
    """The kernel's index worker as jsii ships it (a bundle that needs only Node), found without importing jsii."""
    spec = importlib.util.find_spec("jsii")
    if spec is None or spec.origin is None:
        return None
    worker = Path(spec.origin).parent / "_embedded" / "jsii" / "lib__runtime-index-worker.js"
    return worker if worker.is_file() else None


def _start_index_builder(entry: Path) -> subprocess.Popen[bytes] | None:
    worker = _runtime_index_worker()
    if worker is None:
        return None
    environ = {key: value for key, value in os.environ.items() if key != "NODE_OPTIONS"}
    features = json.dumps(KERNEL_SUPPORTED_FEATURES)
    return subprocess.Popen(
        [environ.get("JSII_NODE", "node"), str(INDEX_BUILDER), str(worker), str(entry), features],
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _write_entry(tarball: Path, target: Path) -> None:
    index: dict[str, list[int]] = {}
    builder: subprocess.Popen[bytes] | None = None
    (target / "lib").mkdir(parents=True)
    try:
        with (
            igzip.open(tarball, "rb") as stream,
            tarfile.open(fileobj=stream, mode="r:") as archive,
            open(target / PACK_FILE, "wb") as pack,
        ):
            for member in archive:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise _NotPackable(f"{member.name!r} is not a regular file")
                path = _member_path(member)
                if path.endswith(".d.ts"):
                    continue  # type declarations: neither the kernel nor Node reads them
                source = archive.extractfile(member)
                assert source is not None  # a regular file
                if path.startswith("lib/"):
                    if not path.endswith(".js"):
                        # With only modules under lib/, Node would resolve any relative request to one in the pack.
                        raise _NotPackable(f"{path}: only JavaScript modules and declarations are expected under lib/")
                    if path not in _KEPT_AS_FILES:
                        index[path] = [pack.tell(), member.size]
                        shutil.copyfileobj(source, pack)
                        continue
                destination = target / path
                destination.parent.mkdir(parents=True, exist_ok=True)
                with open(destination, "wb") as copy:
                    shutil.copyfileobj(source, copy)  # in chunks: the assembly alone is 130 MB
                if (
                    path == "package.json"
                    and json.loads(destination.read_bytes()).get("type", "commonjs") != "commonjs"
                ):
                    raise _NotPackable("the package is an ES module package")
                if path == ".jsii":
                    builder = _start_index_builder(target)  # it reads only the assembly: overlap the rest
        if not index or not (target / "package.json").is_file():
            raise _NotPackable("no package.json or no modules under lib/")
        document = {"format": PACK_FORMAT, "pack": PurePosixPath(PACK_FILE).name, "modules": index}
        (target / PACK_INDEX).write_text(json.dumps(document, sort_keys=True, separators=(",", ":")))
    except BaseException:
        if builder is not None:
            builder.kill()
        raise
    finally:
        if builder is not None:
            builder.wait()  # best effort, as in the kernel: without an index, the first load builds one
    (target / MARKER_FILE).touch()  # last: from here on the kernel treats the entry as complete


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Held until the block ends or the process dies; another process (or thread) waits for it."""
    import fcntl  # POSIX only, as is this step (cache_root)

    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure(root: Path, name: str, version: str, tarball: str | os.PathLike[str]) -> Path | None:
    """Make sure the kernel will find a complete cache entry of a packed package; returns it, or None when the
    package is not packed here (the kernel then extracts it itself, as for every other package)."""
    if name not in PACKED_PACKAGES:
        return None
    prefetch = _prefetching.pop(os.path.realpath(tarball), None)
    if prefetch is not None:
        prefetch.join()
    return _ensure_entry(root, name, version, Path(tarball))


def _ensure_entry(root: Path, name: str, version: str, tarball: Path) -> Path | None:
    entry = entry_path(root, name, version, tarball)
    if _current(entry):
        return entry
    partials = root / _PARTIAL_DIR
    partials.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _exclusive(partials / f"{entry.name}.lock"):
        if _current(entry):
            return entry  # written by another process while this one waited
        for abandoned in partials.glob(f"{entry.name}.*/"):  # left by processes that died while writing one
            shutil.rmtree(abandoned, ignore_errors=True)
        # Its own name: an index builder orphaned by such a process can only write into its own directory.
        partial = partials / f"{entry.name}.{os.getpid()}-{secrets.token_hex(4)}"
        try:
            _write_entry(tarball, partial)
            entry.parent.mkdir(parents=True, exist_ok=True)
            if (entry / MARKER_FILE).is_file():  # complete, but packed in another format (or damaged)
                stale = partial.with_name(f"{partial.name}.stale")
                os.rename(entry, stale)
                shutil.rmtree(stale)
            os.rename(partial, entry)
        except _NotPackable:
            return None
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            # The kernel extracted (or is extracting) this package itself, e.g. when it was not packable before.
            return entry if _current(entry) else None
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    _prune_unused_entries(root, name, keep=entry)
    return entry


def _prune_unused_entries(root: Path, name: str, keep: Path) -> None:
    """Other entries of a packed package (older versions, ~700 MB each) whose marker the kernel has not touched
    for jsii's own TTL (``JSII_RUNTIME_PACKAGE_CACHE_TTL`` days, 30 by default) are removed, as jsii's pruning
    would (it runs only when a kernel's event loop empties, which a kernel that is told to exit never reaches)."""
    ttl_days = int(os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_TTL") or 30)
    cutoff = time.time() - ttl_days * 86_400
    partials = root / _PARTIAL_DIR
    for marker in root.joinpath(*_key_segments(name)).glob(f"*/*/{MARKER_FILE}"):
        entry = marker.parent
        if entry == keep or not _unused_since(marker, cutoff):
            continue
        with _exclusive(partials / f"{entry.name}.lock"):
            if _unused_since(marker, cutoff):  # not used while this process waited
                pruned = partials / f"{entry.name}.{os.getpid()}-{secrets.token_hex(4)}.pruned"
                os.rename(entry, pruned)
                shutil.rmtree(pruned, ignore_errors=True)


def _unused_since(marker: Path, cutoff: float) -> bool:
    try:
        return marker.lstat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def assembly_of(python_package: str) -> tuple[str, str, Path] | None:
    """(name, version, tarball) that a prebuilt package's ``_jsii`` module loads, read without importing it."""
    spec = importlib.util.find_spec(python_package)
    if spec is None or not spec.submodule_search_locations:
        return None
    jsii_dir = Path(next(iter(spec.submodule_search_locations))) / "_jsii"
    match = _ASSEMBLY_LOAD.search((jsii_dir / "__init__.py").read_text())
    return (match[1], match[2], jsii_dir / match[3]) if match else None


def prefetch(root: Path, python_packages: tuple[str, ...]) -> None:
    """Start ``ensure`` for these prebuilt packages in background threads; the load that needs one waits for it.

    A failure here is left for that ``ensure`` call to repeat and report, on the thread that loads. The threads
    hold a lock while they write: a process must not fork while one runs (main.py prefetches only in the process
    that then synthesizes).
    """
    for python_package in python_packages:
        assembly = assembly_of(python_package)
        if assembly is None or assembly[0] not in PACKED_PACKAGES:
            continue
        key = os.path.realpath(assembly[2])  # as ensure() looks it up
        if key in _prefetching:
            continue
        thread = threading.Thread(target=_ensure_quietly, args=(root, *assembly), name=f"prefetch {assembly[0]}")
        thread.daemon = True  # an exit before the load abandons it; the next run starts over
        _prefetching[key] = thread
        thread.start()


def _ensure_quietly(root: Path, name: str, version: str, tarball: Path) -> None:
    with contextlib.suppress(Exception):
        _ensure_entry(root, name, version, tarball)
