"""Every Python snippet of the README runs as written (each in its own process)."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def snippets():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def needs(code):
    """Optional packages a snippet imports."""
    return [m for m in ("torch", "onnxruntime", "onnx", "matplotlib", "matio")
            if re.search(rf"^\s*(import|from) {m}\b", code, re.M)]


def test_readme_has_snippets():
    assert len(snippets()) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(snippets())))
def test_readme_snippet_runs(index, tmp_path):
    code = snippets()[index]
    missing = [m for m in needs(code) if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    env = dict(os.environ, MPLBACKEND="Agg", LSTMKIT_QUIET="1")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"README snippet {index} failed:\n{code}\n{out.stderr}"
