"""The jsii bindings' Python-side type checks are compiled out; nothing they caught gets through."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from synth_speed import binding_bytecode
from synth_speed.binding_bytecode import CACHE_ENV, OptimizedBindingFinder
from tests.conftest import REPO

# Bad arguments to a prebuilt binding, each reported as "<exception type>: <first line>".
PROBE = textwrap.dedent(
    """
    import synth_speed
    synth_speed.enable()
    import cdktf
    from cdktf_cdktf_provider_random import password
    from cdktf_cdktf_provider_random.provider import RandomProvider
    from cdktf_cdktf_provider_random.password import Password

    print("loader", type(password.__loader__).__name__)
    stack = cdktf.TerraformStack(cdktf.App(), "probe")
    RandomProvider(stack, "random")
    for name, kwargs in [
        ("wrong type", dict(length="thirty-two")),
        ("unknown argument", dict(length=32, lenght=32)),
        ("missing argument", dict()),
    ]:
        try:
            Password(stack, name.replace(" ", "-"), **kwargs)
            print(name, "ACCEPTED")
        except Exception as error:
            print(name, type(error).__name__ + ":", " ".join(str(error).split()))
    """
)


def _probe(cache_setting: str) -> list[str]:
    env = {**os.environ, CACHE_ENV: cache_setting}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def test_optimized_bindings_still_reject_every_bad_argument_at_synth(tmp_path):
    cache = tmp_path / "bytecode"
    lines = _probe(str(cache))
    assert lines[0] == "loader _OptimizedSourceLoader"
    # The kernel's own check names the key and the problem.
    assert lines[1].startswith("wrong type RuntimeError: Passed to parameter config of new @cdktf/provider-random")
    assert "Key 'length': Unable to deserialize value as number" in lines[1]
    assert lines[2].startswith("unknown argument TypeError:") and "unexpected keyword argument 'lenght'" in lines[2]
    assert lines[3].startswith("missing argument TypeError:") and "required keyword-only argument: 'length'" in lines[3]
    cached = cache / sys.implementation.cache_tag / "cdktf_cdktf_provider_random.password.opt-1.pyc"
    source = Path(importlib.util.find_spec("cdktf_cdktf_provider_random.password").origin).read_bytes()
    header = cached.read_bytes()[:16]
    assert header == importlib.util.MAGIC_NUMBER + b"\x03\x00\x00\x00" + importlib.util.source_hash(source)


def test_switched_off_the_bindings_run_their_own_type_checks(tmp_path):
    lines = _probe("off")
    assert lines[0] == "loader SourceFileLoader"
    assert lines[1].startswith("wrong type TypeError: type of argument length must be")
    assert "unexpected keyword argument 'lenght'" in lines[2]
    assert "required keyword-only argument: 'length'" in lines[3]


@pytest.fixture
def toy_package(tmp_path, monkeypatch):
    """A package whose import fails if its `if __debug__:` block runs, behind an optimized finder of its own."""
    root = tmp_path / "src" / "toy_binding"
    root.mkdir(parents=True)
    (root / "__init__.py").write_text("if __debug__:\n    raise AssertionError('debug block ran')\nVALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    finder = OptimizedBindingFinder(["toy_binding"], tmp_path / "cache")
    sys.meta_path.insert(0, finder)
    yield root, tmp_path / "cache" / sys.implementation.cache_tag / "toy_binding.opt-1.pyc"
    sys.meta_path.remove(finder)
    sys.modules.pop("toy_binding", None)


def _fresh_import():
    sys.modules.pop("toy_binding", None)
    importlib.invalidate_caches()
    return importlib.import_module("toy_binding")


def test_cache_is_written_reused_and_invalidated_by_the_source(toy_package):
    root, cached = toy_package
    assert _fresh_import().VALUE == 1
    first = cached.read_bytes()
    assert first.startswith(importlib.util.MAGIC_NUMBER + b"\x03\x00\x00\x00")

    cached.write_bytes(first.replace(b"debug block ran", b"debug block RAN"))  # same header: served as is
    module = _fresh_import()
    assert module.VALUE == 1 and b"debug block RAN" in cached.read_bytes()

    (root / "__init__.py").write_text("if __debug__:\n    raise AssertionError('debug block ran')\nVALUE = 2\n")
    assert _fresh_import().VALUE == 2  # the source hash changed: compiled again
    assert cached.read_bytes() != first

    cached.write_bytes(b"not a pyc")
    assert _fresh_import().VALUE == 2  # a corrupt cache file is replaced, not trusted
    assert cached.read_bytes().startswith(importlib.util.MAGIC_NUMBER)


def test_install_is_off_when_asked_or_when_the_cache_cannot_be_written(tmp_path, monkeypatch):
    before = list(sys.meta_path)
    monkeypatch.setenv(CACHE_ENV, "off")
    assert binding_bytecode.install() is False
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    assert binding_bytecode.install() is False
    assert sys.meta_path == before
