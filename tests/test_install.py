"""Install hygiene: the kernel cache lives outside the package; the first-compile notice;
the README's commands are the ones CI runs."""

import os
import re
import subprocess
import sys

import pytest

import lstmkit
from lstmkit.kernels import _cache
from lstmkit.kernels.lstm import lstm_forward_train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.dirname(os.path.abspath(lstmkit.__file__))

# compiles one small kernel in a fresh process (a second or so)
TINY = ("import numpy as np\n"
        "from lstmkit.kernels.lstm import packed_offsets\n"
        "print(packed_offsets(np.array([3, 2, 1], dtype=np.int64)).tolist())\n")


def run_tiny(env_extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "LSTMKIT_CACHE_DIR", "LSTMKIT_QUIET")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", TINY], env=env, capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[0, 3, 5, 6]"
    return out.stderr


def cached_files(folder):
    return [os.path.join(d, f) for d, _, files in os.walk(folder) for f in files
            if f.endswith((".nbi", ".nbc"))]


def test_kernels_are_cached_outside_the_package():
    path = lstm_forward_train._cache._cache_path
    assert os.path.commonpath([path, _cache.cache_dir()]) == _cache.cache_dir()
    assert os.path.commonpath([path, PACKAGE]) != PACKAGE
    assert cached_files(PACKAGE) == []


def test_cache_folder_follows_the_settings(tmp_path):
    ours = tmp_path / "ours"
    notice = run_tiny({"LSTMKIT_CACHE_DIR": str(ours)})
    assert cached_files(ours), "LSTMKIT_CACHE_DIR is not used"
    assert notice.count("lstmkit: compiling the Numba kernels") == 1
    assert str(ours) in notice
    # a second process loads the cached kernel: no compilation, no notice
    assert "compiling" not in run_tiny({"LSTMKIT_CACHE_DIR": str(ours)})
    # Numba's own setting wins, as Numba's documentation promises
    numba_dir = tmp_path / "numba"
    run_tiny({"LSTMKIT_CACHE_DIR": str(ours), "NUMBA_CACHE_DIR": str(numba_dir)})
    assert cached_files(numba_dir)
    assert cached_files(PACKAGE) == []


def test_notice_can_be_silenced(tmp_path):
    assert run_tiny({"LSTMKIT_CACHE_DIR": str(tmp_path), "LSTMKIT_QUIET": "1"}) == ""


def test_unwritable_cache_folder_falls_back_to_a_temporary_one(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    run_tiny({"LSTMKIT_CACHE_DIR": str(blocked / "cache")})
    assert cached_files(PACKAGE) == []


def test_stamp_covers_every_kernel_source(tmp_path, monkeypatch):
    for name in ("lstm.py", "activations.py"):
        (tmp_path / name).write_text(f"# {name}\n")
    monkeypatch.setattr(_cache, "_KERNELS_DIR", str(tmp_path))
    before = _cache.sources_stamp()
    assert _cache.sources_stamp() == before
    (tmp_path / "activations.py").write_text("# an edited helper, longer than before\n")
    changed = _cache.sources_stamp()
    assert changed != before
    (tmp_path / "_cache.py").write_text("# the cache's own code holds no kernel\n")
    assert _cache.sources_stamp() == changed


def test_parallel_loops_compiled_by_two_processes_have_different_names(tmp_path):
    """Numba names a parallel loop's function after the loop object's address, which two
    fresh processes share far more often than chance; loading both processes' cached
    kernels then ran one loop's code for another (a segmentation fault in fc_forward).
    The names carry a per-process salt."""
    from numba.parfors.parfor import Parfor
    assert Parfor.__hash__ is _cache._salted_hash
    code = ("import numpy as np\n"
            "from lstmkit.kernels.blas import par_dot\n"
            "out = np.empty((4, 2), np.float32)\n"
            "par_dot(np.ones((4, 3), np.float32), np.ones((3, 2), np.float32), out, 2)\n"
            "print(out.sum())\n")
    names = []
    for k in range(2):                    # the same kernel, two fresh processes and caches
        env = {key: v for key, v in os.environ.items()
               if key not in ("NUMBA_CACHE_DIR", "LSTMKIT_CACHE_DIR")}
        env.update(LSTMKIT_CACHE_DIR=str(tmp_path / str(k)), LSTMKIT_QUIET="1")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=300, cwd=ROOT)
        assert out.returncode == 0 and out.stdout.strip() == "24.0", out.stderr
        found = set()
        for path in cached_files(tmp_path / str(k)):
            if path.endswith(".nbc"):
                with open(path, "rb") as handle:
                    found |= set(re.findall(rb"__numba_parfor_gufunc_[0-9a-fx_]+", handle.read()))
        assert found
        names.append(found)
    assert not names[0] & names[1]


def test_compile_notice_counts_only_lstmkit_and_prints_once():
    class Event:
        def __init__(self, module):
            func = type("F", (), {"__module__": module})
            self.data = {"dispatcher": type("D", (), {"py_func": func})}

    import io
    stream = io.StringIO()
    notice = _cache.CompileNotice(stream)
    notice.on_start(Event("somebody.else"))
    notice.on_end(Event("somebody.else"))
    assert stream.getvalue() == ""
    for _ in range(2):
        notice.on_start(Event("lstmkit.kernels.lstm"))
        notice.on_start(Event("lstmkit.kernels.blas"))   # nested compilation
        notice.on_end(Event("lstmkit.kernels.blas"))
        notice.on_end(Event("lstmkit.kernels.lstm"))
    assert stream.getvalue().count("\n") == 1 and notice.seconds > 0


# -- the README's commands ------------------------------------------------------------------

def readme_setup_commands():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    block = re.search(r"## Install and run\n.*?```bash\n(.*?)```", text, re.S)
    assert block, "README has no 'Install and run' command block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_the_readme_commands_in_order():
    commands = readme_setup_commands()
    assert any("venv" in c for c in commands)
    assert any("examples/japanese_vowels.py" in c for c in commands)
    assert any("pytest" in c for c in commands)
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    positions = [ci.find(c) for c in commands]
    assert -1 not in positions, [c for c, p in zip(commands, positions) if p == -1]
    assert positions == sorted(positions)


def test_sdist_carries_what_its_tests_need_and_builds_without_warnings(tmp_path):
    pytest.importorskip("setuptools", minversion="77")
    code = ("import sys, setuptools.build_meta as b; "
            "print(b.build_sdist(sys.argv[1]))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    # the lines that say something (not the files copied, whose names may hold any word)
    log = "\n".join(line for line in (out.stdout + out.stderr).lower().splitlines()
                    if not line.startswith(("copying ", "adding ", "hard linking ")))
    assert "warning" not in log and "deprecat" not in log, log
    import tarfile
    with tarfile.open(tmp_path / out.stdout.strip().splitlines()[-1]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        info = tar.extractfile(next(n for n in tar.getnames() if n.endswith("/PKG-INFO")))
        pkg_info = info.read().decode()
    for needed in ("examples/japanese_vowels.py", "tests/conftest.py", "README.md", "LICENSE",
                   ".ci/run", "lstmkit/py.typed", "lstmkit/datasets/japanese_vowels.npz"):
        assert needed in names, needed
    assert "License-Expression: BSD-3-Clause" in pkg_info
    assert "License :: " not in pkg_info
