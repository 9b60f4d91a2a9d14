"""Crafted, damaged and hostile files, and writes that fail or are killed."""

import importlib.util
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest
import scipy.io

from helpers import clear_error
from lstmkit import exportONNXNetwork, importMATLABLearnables, loadNetwork, saveNetwork


@pytest.fixture
def saved(series_net, tmp_path):
    path = saveNetwork(series_net, tmp_path / "net.mat")
    contents = scipy.io.loadmat(path)
    meta = json.loads(str(contents["lstmkit_meta"][0]))
    return path, contents, meta


def rewrite(path, contents, meta=None, **changes):
    out = {k: v for k, v in contents.items() if not k.startswith("__")}
    if meta is not None:
        out["lstmkit_meta"] = json.dumps(meta)
    out.update(changes)
    scipy.io.savemat(path, out)


def crafted_meta(meta, how):
    meta = json.loads(json.dumps(meta))
    layer = meta["layers"][1]["properties"]
    if how == "dtype string":
        meta["dtype"] = "<U1000000000"
    elif how == "dtype unknown":
        meta["dtype"] = "float128x"
    elif how == "huge string values":
        meta["layers"][-1]["properties"]["Classes"] = {"__values__": ["a"],
                                                       "dtype": "<U1000000000"}
    elif how == "values of object type":
        meta["layers"][-1]["properties"]["Classes"] = {"__values__": ["a"], "dtype": "|O"}
    elif how == "negative shape":
        layer["InputWeights"]["shape"] = [-24, -12]
    elif how == "wrong shape":
        layer["InputWeights"]["shape"] = [12, 24]
    elif how == "missing array":
        layer["InputWeights"]["__array__"] = "nothing_here"
    elif how == "unknown class":
        meta["layers"][1]["class"] = "os.system"
    elif how == "no layers":
        del meta["layers"]
    elif how == "layers not a list":
        meta["layers"] = 5
    elif how == "unexpected entry":
        layer["InputWeights"] = {"__pickle__": "cos\nsystem\n"}
    elif how == "newer version":
        meta["version"] = 99
    elif how == "NaN weights":
        return meta, "nan"
    return meta, None


CRAFTED = ["dtype string", "dtype unknown", "huge string values", "values of object type",
           "negative shape", "wrong shape", "missing array", "unknown class", "no layers",
           "layers not a list", "unexpected entry", "newer version", "NaN weights"]


@pytest.mark.parametrize("how", CRAFTED)
def test_crafted_network_files(saved, how):
    path, contents, meta = saved
    meta, arrays = crafted_meta(meta, how)
    if arrays == "nan":
        key = meta["layers"][1]["properties"]["InputWeights"]["__array__"]
        contents = dict(contents)
        contents[key] = np.full_like(contents[key], np.nan)
    rewrite(path, contents, meta)
    clear_error(lambda: loadNetwork(path), "loadNetwork",
                "corrupted|newer|not an lstmkit|class|needs")


@pytest.mark.parametrize("how", ["empty", "random bytes", "truncated", "deep JSON",
                                 "bad JSON", "no description", "a folder"])
def test_damaged_network_files(saved, tmp_path, how):
    path, contents, meta = saved
    if how == "empty":
        open(path, "wb").close()
    elif how == "random bytes":
        open(path, "wb").write(os.urandom(3000))
    elif how == "truncated":
        data = open(path, "rb").read()
        open(path, "wb").write(data[: len(data) // 2])
    elif how == "deep JSON":
        rewrite(path, contents, None, lstmkit_meta="[" * 100000 + "]" * 100000)
    elif how == "bad JSON":
        rewrite(path, contents, None, lstmkit_meta="{not json")
    elif how == "no description":
        scipy.io.savemat(path, {"x": np.ones(3)})
    elif how == "a folder":
        path = str(tmp_path)
        clear_error(lambda: loadNetwork(path), "loadNetwork", "does not exist|not",
                    exc=(ValueError, FileNotFoundError))
        return
    clear_error(lambda: loadNetwork(path), "loadNetwork", "not|corrupted")


def mat_bomb(path, values=300_000_000):
    """A MAT-file (v5) of a few hundred kilobytes holding a compressed 2.4 GB double array."""
    header = b"MATLAB 5.0 MAT-file, bomb".ljust(116, b" ") + b"\x00" * 8 + b"\x00\x01IM"
    name = b"bomb"
    nbytes = values * 8
    body = (np.array([6, 8], "<u4").tobytes() + np.array([6, 0], "<u4").tobytes()      # flags
            + np.array([5, 8], "<u4").tobytes() + np.array([values, 1], "<i4").tobytes()  # dims
            + np.array([1, len(name)], "<u4").tobytes() + name.ljust(8, b"\x00")         # name
            + np.array([9, nbytes], "<u4").tobytes())                                      # data
    matrix = np.array([14, len(body) + nbytes], "<u4").tobytes() + body
    z = zlib.compressobj(9)
    compressed = z.compress(matrix)
    chunk = b"\x00" * (1 << 20)
    for _ in range(nbytes // len(chunk)):
        compressed += z.compress(chunk)
    compressed += z.flush()
    with open(path, "wb") as f:
        f.write(header + np.array([15, len(compressed)], "<u4").tobytes() + compressed)
    return path


@pytest.mark.slow
def test_a_mat_file_bomb_is_refused_before_it_inflates(tmp_path):
    from lstmkit._files import check_mat_size
    path = mat_bomb(str(tmp_path / "bomb.mat"))
    assert os.path.getsize(path) < 5_000_000
    clear_error(lambda: check_mat_size("loadNetwork", path, limit=1 << 30), "loadNetwork",
                "GiB", exc=MemoryError)
    clear_error(lambda: importMATLABLearnables.__wrapped__ if False else
                check_mat_size("importMATLABLearnables", path, limit=1 << 30),
                "importMATLABLearnables", "decompressed", exc=MemoryError)


@pytest.mark.parametrize("case, contents, fragment", [
    ("misspelt struct field", {"fc": {"Weigths": np.ones((9, 6)), "Bias": np.zeros((9, 1))}},
     "did you mean 'Weights'"),
    ("misspelt variable", {"fc_Weights": np.ones((9, 6)), "fc_Biass": np.zeros((9, 1))},
     "did you mean 'fc_Bias'"),
    ("wrong size", {"fc_Weights": np.ones((9, 5))}, "needs 9-by-6"),
    ("NaN", {"fc_Weights": np.full((9, 6), np.nan)}, "NaN or Inf"),
    ("nothing matching", {"other": np.ones(3)}, "no learnables"),
])
def test_matlab_learnables_files(series_net, tmp_path, case, contents, fragment):
    path = str(tmp_path / "w.mat")
    scipy.io.savemat(path, contents)
    layers = list(series_net.Layers)
    clear_error(lambda: importMATLABLearnables(layers, path), "importMATLABLearnables",
                fragment)


@pytest.mark.parametrize("case, entries, fragment", [
    ("one-element bias", {"lstm.weight_ih_l0": np.ones((24, 12)),
                          "lstm.weight_hh_l0": np.ones((24, 6)),
                          "lstm.bias_ih_l0": np.ones(1)}, "bias_ih"),
    ("missing weight", {"lstm.weight_ih_l0": np.ones((24, 12))}, "weight_hh_l0 is missing"),
    ("wrong hidden size", {"lstm.weight_ih_l0": np.ones((20, 12)),
                           "lstm.weight_hh_l0": np.ones((20, 5))}, "InputWeights of size"),
    ("NaN", {"lstm.weight_ih_l0": np.full((24, 12), np.nan),
             "lstm.weight_hh_l0": np.ones((24, 6))}, "finite|NaN"),
    ("text", {"lstm.weight_ih_l0": "weights"}, "not numeric"),
    ("linear bias of one", {"lstm.weight_ih_l0": np.ones((24, 12)),
                            "lstm.weight_hh_l0": np.ones((24, 6)),
                            "fc.weight": np.ones((9, 6)), "fc.bias": np.ones(1)}, "Bias"),
])
def test_pytorch_state_dicts(series_net, case, entries, fragment):
    from lstmkit import loadPyTorchStateDict
    layers = list(series_net.Layers)
    entries = {"fc.weight": np.ones((9, 6)), "fc.bias": np.zeros(9), **entries}
    clear_error(lambda: loadPyTorchStateDict(layers, entries), "loadPyTorchStateDict",
                fragment, exc=(ValueError, TypeError, Exception))


# -- ONNX ---------------------------------------------------------------------------------------
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def save_model(nodes, path, inits=(), inputs=None):
    graph = helper.make_graph(nodes, "g", inputs or [helper.make_tensor_value_info(
        "input", TensorProto.FLOAT, ["T", "N", 3])], [helper.make_tensor_value_info(
            "output", TensorProto.FLOAT, None)], list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return model


def test_onnx_graph_with_a_cycle_is_refused(tmp_path):
    from lstmkit import importONNXNetwork
    path = str(tmp_path / "cycle.onnx")
    save_model([helper.make_node("Add", ["input", "b"], ["a"]),
                helper.make_node("Relu", ["a"], ["b"]),
                helper.make_node("Identity", ["b"], ["output"])], path)
    clear_error(lambda: importONNXNetwork(path), "importONNXNetwork", "cycle")


def test_onnx_huge_hidden_size_is_refused_before_allocation(tmp_path):
    from lstmkit import importONNXNetwork
    path = str(tmp_path / "huge.onnx")
    W = numpy_helper.from_array(np.ones((1, 8, 3), np.float32), "W")
    R = numpy_helper.from_array(np.ones((1, 8, 2), np.float32), "R")
    save_model([helper.make_node("LSTM", ["input", "W", "R"], ["Y", "output"],
                                 hidden_size=10 ** 9)], path, [W, R])
    assert os.path.getsize(path) < 1000
    clear_error(lambda: importONNXNetwork(path), "importONNXNetwork", "hidden_size")


@pytest.mark.parametrize("where", ["parent folder", "absolute path", "symlink", "missing"])
def test_onnx_external_data_outside_the_folder_is_refused(tmp_path, where):
    from lstmkit import importONNXNetwork
    folder = tmp_path / "model"
    folder.mkdir()
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.ones(24, np.float32).tobytes())
    location = {"parent folder": "../secret.bin", "absolute path": str(secret),
                "symlink": "link.bin", "missing": "nothing.bin"}[where]
    if where == "symlink":
        os.symlink(secret, folder / "link.bin")
    W = TensorProto()
    W.name, W.data_type = "W", TensorProto.FLOAT
    W.dims.extend([1, 8, 3])
    W.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(96))):
        entry = W.external_data.add()
        entry.key, entry.value = k, v
    R = numpy_helper.from_array(np.ones((1, 8, 2), np.float32), "R")
    path = str(folder / "ext.onnx")
    save_model([helper.make_node("LSTM", ["input", "W", "R"], ["Y", "output"], hidden_size=2)],
               path, [W, R])
    clear_error(lambda: importONNXNetwork(path), "importONNXNetwork",
                "outside the model's folder|does not exist",
                exc=(ValueError, FileNotFoundError))


@pytest.mark.parametrize("how", ["random bytes", "empty", "truncated"])
def test_damaged_onnx_files(series_net, tmp_path, how):
    from lstmkit import importONNXNetwork
    path = exportONNXNetwork(series_net, str(tmp_path / "net.onnx"))
    data = open(path, "rb").read()
    open(path, "wb").write({"random bytes": os.urandom(500), "empty": b"",
                            "truncated": data[: len(data) // 3]}[how])
    clear_error(lambda: importONNXNetwork(path), "importONNXNetwork",
                "not a readable ONNX|no float input|no layers|not|valid")


# -- writes that fail ----------------------------------------------------------------------------
@pytest.mark.parametrize("writer", ["saveNetwork", "exportONNXNetwork"])
def test_permissions_of_an_existing_file_are_kept(series_net, tmp_path, writer):
    path = str(tmp_path / ("net.mat" if writer == "saveNetwork" else "net.onnx"))
    write = (lambda: saveNetwork(series_net, path)) if writer == "saveNetwork" else (
        lambda: exportONNXNetwork(series_net, path))
    write()
    os.chmod(path, 0o640)
    write()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(path)]


def test_a_new_file_gets_the_umask_permissions(series_net, tmp_path):
    old = os.umask(0o022)
    try:
        path = saveNetwork(series_net, tmp_path / "new.mat")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_failed_export_keeps_the_previous_file(series_net, tmp_path, monkeypatch):
    import lstmkit.interop.onnx_export as export
    path = exportONNXNetwork(series_net, str(tmp_path / "net.onnx"))
    before = open(path, "rb").read()

    def broken(filename, write, func=None):
        from lstmkit._files import write_atomically

        def partial(f):
            f.write(b"partial")
            raise OSError(28, "No space left on device")
        return write_atomically(filename, partial, func)
    monkeypatch.setattr(export, "write_atomically", broken)
    with pytest.raises(OSError, match="exportONNXNetwork: cannot write .*net.onnx.*No space left"):
        exportONNXNetwork(series_net, path)
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["net.onnx"]


def test_a_killed_write_leaves_the_old_file_and_the_next_write_clears_its_temporary(
        series_net, tmp_path):
    path = saveNetwork(series_net, tmp_path / "net.mat")
    before = open(path, "rb").read()
    script = textwrap.dedent(f"""
        import os, time
        from lstmkit._files import write_atomically
        def slow(f):
            f.write(b"x" * 1000)
            f.flush()
            os.kill(os.getpid(), {int(signal.SIGKILL)})
        write_atomically({path!r}, slow)
    """)
    subprocess.run([sys.executable, "-c", script], check=False)
    assert open(path, "rb").read() == before                 # the old file, whole
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".part")]
    assert len(leftovers) == 1                                 # what kill -9 leaves
    old = os.path.join(tmp_path, leftovers[0])
    os.utime(old, (0, 0))                                      # an hour old and more
    saveNetwork(series_net, path)
    assert os.listdir(tmp_path) == ["net.mat"]
    loadNetwork(path)


@pytest.mark.parametrize("option", ["CheckpointPath", "ProgressPlotFile"])
def test_unwritable_folders_are_errors_before_training(jv, option):
    from lstmkit import trainingOptions
    target = "/proc" if option == "CheckpointPath" else "/proc/plot.png"
    clear_error(lambda: trainingOptions("adam", **{option: target}), "trainingOptions",
                "cannot be written", exc=OSError)


def test_a_folder_made_unwritable_after_the_options_fails_before_training(jv, tmp_path):
    from helpers import classifier_layers
    from lstmkit import trainingOptions, trainNetwork
    X, Y = jv
    folder = tmp_path / "ck"
    folder.mkdir()
    opts = trainingOptions("adam", MaxEpochs=1, MiniBatchSize=10, Verbose=False,
                           CheckpointPath=str(folder))
    folder.rmdir()
    clear_error(lambda: trainNetwork(X, Y, classifier_layers(), opts), "trainNetwork",
                "CheckpointPath", exc=(OSError, ValueError))


def test_a_v73_mat_file_declaring_more_than_memory_is_refused(tmp_path):
    h5py = pytest.importorskip("h5py")
    from lstmkit._files import check_mat_size
    path = str(tmp_path / "big.mat")
    with h5py.File(path, "w", userblock_size=512) as f:   # MATLAB's 512-byte user block
        f.create_dataset("X", shape=(10 ** 6, 10 ** 5), dtype="f8", compression="gzip",
                         chunks=(1000, 1000))           # 800 GB declared, nothing written
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file".ljust(512, b" "))
    assert os.path.getsize(path) < 1_000_000
    clear_error(lambda: check_mat_size("load", path, limit=1 << 30), "load", "declares more",
                exc=MemoryError)


@pytest.mark.parametrize("writer", ["exportONNXNetwork", "checkpoint"])
def test_kill_9_in_the_middle_of_an_export_or_a_checkpoint(series_net, jv, tmp_path, writer):
    """The process dies half-way through its second write: what was on disk stays whole."""
    path = str(tmp_path / "net.onnx")
    if writer == "exportONNXNetwork":
        exportONNXNetwork(series_net, path)
        before = open(path, "rb").read()
    saved = str(tmp_path / "net.mat")
    saveNetwork(series_net, saved)
    script = textwrap.dedent(f"""
        import os
        import lstmkit._files as files
        import lstmkit.io, lstmkit.interop.onnx_export as export
        from lstmkit import *
        real, count = files.write_atomically, [0]
        def dying(filename, write, func=None):
            count[0] += 1
            if count[0] < 2:
                return real(filename, write, func)
            def half(f):
                f.write(b"half of it")
                f.flush()
                os.kill(os.getpid(), {int(signal.SIGKILL)})
            return real(filename, half, func)
        lstmkit.io.write_atomically = dying
        export.write_atomically = dying
        net = loadNetwork({saved!r})
        if {writer!r} == "exportONNXNetwork":
            exportONNXNetwork(net, {path!r})
            exportONNXNetwork(net, {path!r})
        else:
            X, Y = japaneseVowelsTrainData()
            trainNetwork(X[::9], Y[::9], net.Layers, trainingOptions(
                "adam", MaxEpochs=1, MiniBatchSize=10, Verbose=False,
                CheckpointPath={str(tmp_path)!r}, CheckpointFrequency=1,
                CheckpointFrequencyUnit="iteration"))
    """)
    done = subprocess.run([sys.executable, "-c", script], check=False)
    assert done.returncode == -signal.SIGKILL
    names = sorted(os.listdir(tmp_path))
    whole = [n for n in names if not n.endswith(".part")]
    assert len([n for n in names if n.endswith(".part")]) == 1, names
    if writer == "exportONNXNetwork":
        assert open(path, "rb").read() == before
        from lstmkit import importONNXNetwork
        importONNXNetwork(path)
    else:
        checkpoints = [n for n in whole if n.startswith("net_checkpoint__")]
        assert len(checkpoints) == 1                 # the first, whole; the second never named
        loadNetwork(os.path.join(tmp_path, checkpoints[0]))


@pytest.fixture(scope="module")
def full_disk(tmp_path_factory, series_net):
    """Every kind of write lstmkit makes, in a process whose files cannot grow past 2 kB.

    RLIMIT_FSIZE makes write() fail as a full disk does (EFBIG instead of ENOSPC,
    through the same path): the earlier files must stay whole, no temporary may
    be left, errors name the function and the user's path, and a training run
    whose checkpoint or plot cannot be written still returns its network.
    """
    if not hasattr(signal, "SIGXFSZ"):
        pytest.skip("needs POSIX file-size limits")
    folder = tmp_path_factory.mktemp("full")
    saveNetwork(series_net, str(folder / "net.mat"))
    exportONNXNetwork(series_net, str(folder / "net.onnx"))
    before = {n: (folder / n).read_bytes() for n in os.listdir(folder)}
    script = textwrap.dedent(f"""
        import json, resource, signal, warnings
        from lstmkit import *
        d = {str(folder)!r}
        X, Y = japaneseVowelsTrainData()
        X, Y = X[::9], Y[::9]
        net = loadNetwork(d + "/net.mat")
        def options(**kw):
            return trainingOptions("adam", MaxEpochs=2, MiniBatchSize=10, Verbose=False, **kw)
        trainNetwork(X, Y, net.Layers, options())                  # compiled before the limit
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, resource.RLIM_INFINITY))
        out = {{}}
        calls = {{
            "saveNetwork": lambda: saveNetwork(net, d + "/net.mat"),
            "exportONNXNetwork": lambda: exportONNXNetwork(net, d + "/net.onnx"),
            "checkpoint": lambda: trainNetwork(X, Y, net.Layers, options(CheckpointPath=d)),
            "progress plot": lambda: trainNetwork(X, Y, net.Layers, options(
                Plots="training-progress", ProgressPlotFile=d + "/plot.png")),
        }}
        for name, call in calls.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = type(call()).__name__
                except Exception as e:
                    result = type(e).__name__ + ": " + (getattr(e, "strerror", None) or str(e))
            out[name] = [result, [str(w.message) for w in caught
                                  if issubclass(w.category, RuntimeWarning)]]
        print(json.dumps(out))
    """)
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("the progress plot needs matplotlib")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    return folder, before, outcome


@pytest.mark.parametrize("writer, func", [("saveNetwork", "saveNetwork"),
                                          ("exportONNXNetwork", "exportONNXNetwork")])
def test_a_full_disk_is_a_clear_error_and_keeps_the_previous_file(full_disk, writer, func):
    folder, before, outcome = full_disk
    result, _ = outcome[writer]
    suffix = ".mat" if writer == "saveNetwork" else ".onnx"
    assert result.startswith("OSError: "), result
    assert result.startswith(f"OSError: {func}: cannot write '{folder}/net{suffix}'"), result
    assert ".part" not in result and "lstmkit-" not in result
    assert (folder / f"net{suffix}").read_bytes() == before[f"net{suffix}"]


@pytest.mark.parametrize("writer", ["checkpoint", "progress plot"])
def test_a_full_disk_during_training_warns_and_returns_the_network(full_disk, writer):
    folder, _, outcome = full_disk
    result, warned = outcome[writer]
    assert result == "SeriesNetwork", result
    assert len(warned) == 1, warned                       # once per run, not at every write
    assert warned[0].startswith("trainNetwork: cannot write '"), warned
    assert "training goes on" in warned[0] and ".part" not in warned[0]


def test_a_full_disk_leaves_no_temporary_and_no_partial_file(full_disk):
    folder, before, _ = full_disk
    assert sorted(os.listdir(folder)) == sorted(before)          # no .part, no checkpoint stub
    assert all((folder / n).read_bytes() == b for n, b in before.items())
