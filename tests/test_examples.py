"""The examples run end to end (shortened with --quick) and print their metric."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name, *args, cwd=None):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args],
                         capture_output=True, text=True, timeout=600, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return out.stdout


def number(pattern, text):
    match = re.search(pattern, text)
    assert match, text
    return float(match.group(1))


def test_sequence_to_sequence_regression():
    out = run_example("sequence_to_sequence_regression.py", "--quick")
    rmse = number(r"Test RMSE at the last time step: ([\d.]+) cycles", out)
    assert 0 < rmse < 150


def test_sequence_to_sequence_classification():
    out = run_example("sequence_to_sequence_classification.py", "--quick")
    accuracy = number(r"Per-time-step test accuracy: ([\d.]+)", out)
    assert 0.2 < accuracy <= 1.0   # better than chance with five classes


def test_time_series_forecasting(tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "forecast.png"
    out = run_example("time_series_forecasting.py", "--quick", "--plot", str(plot))
    closed = number(r"Closed-loop RMSE: ([\d.]+)", out)
    opened = number(r"Open-loop RMSE: ([\d.]+)", out)
    assert closed > 0 and opened > 0
    assert f"Plot written to {plot}" in out and plot.stat().st_size > 10000


def test_time_series_forecasting_without_plot():
    out = run_example("time_series_forecasting.py", "--quick", "--plot", "")
    assert "Closed-loop RMSE" in out and "Plot written" not in out


def test_waveform_classification_trainnet():
    out = run_example("waveform_classification.py", "--quick")
    acc = number(r"Test accuracy \(testnet\): ([\d.]+) %", out)
    same = number(r"Test accuracy \(minibatchpredict \+ scores2label\): ([\d.]+) %", out)
    assert acc == same and acc > 25          # better than chance with four classes


def test_time_series_forecasting_trainnet():
    out = run_example("time_series_forecasting_trainnet.py", "--quick")
    rmse = number(r"Test RMSE \(one step ahead, standardized\): ([\d.]+)", out)
    closed = number(r"Closed-loop RMSE over \d+ steps: ([\d.]+)", out)
    assert 0 < rmse < 1.0 and closed > 0     # better than predicting the mean (RMSE 1)


def test_sequence_classification_1d_convolutions():
    out = run_example("sequence_classification_1d_convolutions.py", "--quick")
    cnn = number(r"1-D CNN: training time [\d.]+ s, test accuracy ([\d.]+) %", out)
    cnn_lstm = number(r"CNN-LSTM: training time [\d.]+ s, test accuracy ([\d.]+) %", out)
    assert cnn > 40 and cnn_lstm > 40        # four classes: chance is 25 %


def test_text_classification():
    out = run_example("text_classification.py", "--quick")
    assert number(r"Test accuracy: ([\d.]+) %", out) > 60


def test_branching_network(tmp_path):
    pytest.importorskip("matplotlib")
    plot_file = tmp_path / "branches.png"
    out = run_example("branching_network.py", "--quick", "--plot", str(plot_file))
    assert number(r"test accuracy: ([\d.]+) %", out) > 40
    assert number(r"between batched and alone: ([\d.e+-]+)", out) < 1e-4
    assert '"gmp"       "cat/in2"' in out and plot_file.stat().st_size > 5000


def test_parallel_training():
    pytest.importorskip("distributed")
    out = run_example("parallel_training.py", "--quick")
    assert "Pool: 2 workers" in out
    cpu = number(r"'cpu': test accuracy ([\d.]+)", out)
    parallel = number(r"'parallel': test accuracy ([\d.]+)", out)
    assert cpu == parallel and cpu > 0.3
    assert number(r"cpu against parallel: ([\d.e+-]+)", out) < 1e-9


def test_custom_training_loop():
    out = run_example("custom_training_loop.py", "--quick")
    baseline = number(r"Predicting zero: test RMSE ([\d.]+)", out)
    looped = number(r"Custom loop \(LSTM\): last mini-batch loss [\d.]+, test RMSE ([\d.]+)", out)
    residual = number(r"Custom loop \(residual\): test RMSE ([\d.]+)", out)
    trained = number(r"trainnet \(residual\): test RMSE ([\d.]+)", out)
    assert looped < 0.5 * baseline and residual < 0.5 * baseline and trained < 0.5 * baseline
