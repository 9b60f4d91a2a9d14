"""The training-progress plot in a notebook (inline, updated in place) and its per-run files."""

import contextlib
import io
import os
import re

import pytest

from lstmkit import trainingOptions, trainNetwork
from lstmkit.training import progress

from netutil import QUIET
from test_training_features import classifier, noisy_classes

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pytest.importorskip("IPython")


class FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, obj):
        self.shown.append(("update", obj))


@pytest.fixture
def notebook(monkeypatch):
    """A Jupyter kernel as lstmkit sees one: IPython's display, recorded."""
    import IPython.display
    shown = []

    def display(obj, display_id=False):
        shown.append(("display", obj))
        assert display_id is True
        return FakeHandle(shown)

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setitem(progress.REDRAW_SECONDS, "notebook", 0.0)   # draw at every iteration
    monkeypatch.setattr(progress, "PLOT_BUDGET", float("inf"))
    return shown


def test_mode_follows_the_session(monkeypatch):
    monkeypatch.setattr(progress, "in_notebook", lambda: False)
    assert progress.choose_mode() == "file"          # Agg, no kernel
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    assert progress.choose_mode() == "notebook"      # inline backend in a kernel


def test_in_notebook_detects_a_kernel(monkeypatch):
    import IPython

    class Shell:
        config = {"IPKernelApp": {}}
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert progress.in_notebook()
    Shell.config = {}
    assert not progress.in_notebook()


def test_training_draws_inline_and_updates_in_place(notebook, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, Y = noisy_classes(12, 0)
    trainNetwork(X, Y, classifier(), trainingOptions(
        "adam", MaxEpochs=2, MiniBatchSize=4, Plots="training-progress", **QUIET))
    kinds = [kind for kind, _ in notebook]
    assert kinds[0] == "display" and kinds.count("display") == 1   # one output, replaced
    assert kinds.count("update") >= 2
    images = [obj for _, obj in notebook]
    assert all(getattr(img, "format", None) == "png" and img.data[:4] == b"\x89PNG"
               for img in images)
    assert os.listdir(tmp_path) == []                               # no file in a notebook


def test_each_run_writes_its_own_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(progress, "in_notebook", lambda: False)
    X, Y = noisy_classes(12, 0)
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=4, Plots="training-progress",
                           **QUIET)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        trainNetwork(X, Y, classifier(), opts)
        trainNetwork(X, Y, classifier(), opts)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2, files
    assert all(re.fullmatch(r"training-progress-\d{8}-\d{6}(-\d+)?\.png", f) for f in files)
    for f in files:
        assert f"Training progress plot written to {os.path.join('.', f)}" in out.getvalue()


def test_run_file_name_never_overwrites(tmp_path):
    first = progress.run_file_name(str(tmp_path))
    open(first, "w").close()
    second = progress.run_file_name(str(tmp_path))
    assert second != first and not os.path.exists(second)


def test_drawing_takes_a_small_share_of_the_training_time(monkeypatch, tmp_path):
    """A draw that takes d seconds is followed by at least d / PLOT_BUDGET without one."""
    clock = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    plot = progress.ProgressPlot("classification", False, str(tmp_path / "p.png"), mode="file")
    drawn = []

    def slow_draw(*args):
        drawn.append(clock[0])
        clock[0] += 0.2                      # a draw and a PNG write: 0.2 s

    monkeypatch.setattr(plot, "_draw", slow_draw)
    monkeypatch.setattr(plot, "_write", lambda: True)
    history = {}
    for _ in range(200):                     # 200 epochs of 50 ms each: 10 s of training
        plot.checkpoint(history)
        clock[0] += 0.05
    spent = 0.2 * len(drawn)
    assert spent <= 1.5 * progress.PLOT_BUDGET * clock[0] + 0.2
    assert len(drawn) >= 2                   # still written as training goes
    plot.checkpoint(history, force=True)     # a forced write is never skipped
    assert len(drawn) >= 3
