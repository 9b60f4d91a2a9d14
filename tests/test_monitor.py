"""trainingProgressMonitor, recordMetrics, updateInfo, groupSubPlot, yscale (MATLAB R2022b)."""

import numpy as np
import pytest

import lstmkit as L
from lstmkit import dlarray


def test_a_matlab_style_loop_records_plots_and_reports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                  # no display here: the figure is a PNG file
    monitor = L.trainingProgressMonitor(Metrics=["TrainingLoss", "ValidationLoss"],
                                        Info=["Epoch", "LearnRate"], XLabel="Iteration")
    assert monitor.Status == "Running" and monitor.Progress == 0 and monitor.Visible
    L.groupSubPlot(monitor, "Loss", ["TrainingLoss", "ValidationLoss"])
    L.yscale(monitor, "Loss", "log")
    iteration, epochs = 0, 3
    epoch = 0
    while epoch < epochs and not monitor.Stop:
        epoch += 1
        for _ in range(4):
            iteration += 1
            L.recordMetrics(monitor, iteration, TrainingLoss=dlarray(1.0 / iteration))
            L.updateInfo(monitor, Epoch=f"{epoch} of {epochs}", LearnRate=np.float32(0.01))
            monitor.Progress = 100 * iteration / 12
        L.recordMetrics(monitor, iteration, {"ValidationLoss": 2.0 / iteration})
    monitor.Status = "Training complete"
    data = monitor.MetricData
    np.testing.assert_allclose(data["TrainingLoss"][:, 0], np.arange(1, 13))
    np.testing.assert_allclose(data["TrainingLoss"][:, 1], 1.0 / np.arange(1, 13))
    assert data["ValidationLoss"].tolist() == [[4, 0.5], [8, 0.25], [12, 2 / 12]]
    assert monitor.InfoData["Epoch"][-1] == "3 of 3" and len(monitor.InfoData["LearnRate"]) == 12
    assert monitor.Progress == 100 and monitor.Stop is False
    written = list(tmp_path.glob("training-progress-*.png"))
    assert len(written) == 1 and written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axes = monitor._figure.fig.axes
    assert len(axes) == 1 and axes[0].get_ylabel() == "Loss" and axes[0].get_yscale() == "log"
    assert "Training complete" in monitor._figure.fig._suptitle.get_text()
    assert "Metrics: ['TrainingLoss', 'ValidationLoss']" in repr(monitor)


def test_an_invisible_monitor_keeps_its_data_and_draws_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monitor = L.trainingProgressMonitor(Metrics="Loss", Visible=False)
    L.recordMetrics(monitor, 1, Loss=0.5)
    monitor.Status = "Done"
    assert monitor._figure is None and not list(tmp_path.iterdir())
    assert monitor.MetricData["Loss"].tolist() == [[1.0, 0.5]]


@pytest.mark.parametrize("call, exc, words", [
    (lambda m: L.recordMetrics(m, 1, Accuracy=1.0), ValueError,
     "recordMetrics: 'Accuracy' is not one of the monitor's Metrics"),
    (lambda m: L.recordMetrics(m, 1, Loss=np.ones(2)), ValueError,
     "recordMetrics: `Loss` must be a real numeric scalar"),
    (lambda m: L.recordMetrics(m, "one", Loss=1.0), ValueError, "`step` must be a real"),
    (lambda m: L.recordMetrics(m, 1), TypeError, "give at least one metric value"),
    (lambda m: L.recordMetrics("monitor", 1, Loss=1.0), TypeError,
     "`monitor` must be a TrainingProgressMonitor"),
    (lambda m: L.updateInfo(m, Step=1), ValueError, "'Step' is not one of the monitor's Info"),
    (lambda m: L.updateInfo(m, Epoch=[1, 2]), TypeError, "`Epoch` must be a number or text"),
    (lambda m: setattr(m, "Progress", 120), ValueError, "`Progress` must be a number from 0"),
    (lambda m: setattr(m, "Stop", True), AttributeError, "`Stop` is read-only"),
    (lambda m: setattr(m, "MetricData", {}), AttributeError, "`MetricData` is read-only"),
    (lambda m: setattr(m, "Metric", ["Loss"]), AttributeError, "has no property 'Metric'"),
    (lambda m: setattr(m, "Metrics", ["Loss", "Loss"]), ValueError, "each field once"),
    (lambda m: setattr(m, "Metrics", ["1st"]), ValueError, "must begin with a letter"),
    (lambda m: setattr(m, "Status", 3), TypeError, "`Status` must be a str"),
    (lambda m: L.groupSubPlot(m, "G", ["Nope"]), ValueError, "are not among the monitor's"),
    (lambda m: L.yscale(m, "Loss", "logarithmic"), ValueError, "'linear' or 'log'"),
    (lambda m: L.yscale(m, "Nope", "log"), ValueError, "neither a metric"),
])
def test_bad_input_is_a_clear_error_and_changes_nothing(call, exc, words):
    monitor = L.trainingProgressMonitor(Metrics="Loss", Info="Epoch", Visible=False)
    with pytest.raises(exc, match=words):
        call(monitor)
    assert monitor.MetricData == {} and monitor.InfoData == {} and monitor.Progress == 0


def test_recorded_metrics_cannot_be_dropped_and_a_half_bad_record_writes_nothing():
    monitor = L.trainingProgressMonitor(Metrics=["A", "B"], Visible=False)
    with pytest.raises(ValueError, match="`B` must be a real numeric scalar"):
        L.recordMetrics(monitor, 1, A=1.0, B="x")
    assert monitor.MetricData == {}
    L.recordMetrics(monitor, 1, A=1.0)
    with pytest.raises(ValueError, match="must keep the metrics already recorded: \\['A'\\]"):
        monitor.Metrics = ["B"]
    monitor.Metrics = ["A", "B", "C"]                   # adding is fine
    L.groupSubPlot(monitor, "AB", ["A", "B"])
    L.groupSubPlot(monitor, "BC", ["B", "C"])           # a metric belongs to one group
    assert monitor._subplots() == [("AB", ["A"]), ("BC", ["B", "C"])]
    L.yscale(monitor, "A", "log")
    with pytest.raises(ValueError, match="same y-axis scale"):
        L.groupSubPlot(monitor, "ABC", ["A", "B", "C"])


def test_the_file_gets_the_last_values_when_the_monitor_is_dropped(tmp_path, monkeypatch):
    import gc
    monkeypatch.chdir(tmp_path)
    monitor = L.trainingProgressMonitor(Metrics="Loss")
    L.recordMetrics(monitor, 1, Loss=1.0)             # the first draw writes the file
    figure = monitor._figure
    assert figure.mode == "file" and figure.written
    drawn = []
    monkeypatch.setattr(figure, "_write", lambda: drawn.append(
        figure.fig.axes[0].lines[0].get_xdata().tolist()) or True)
    for step in range(2, 6):                          # too soon to draw again (throttled)
        L.recordMetrics(monitor, step, Loss=1.0 / step)
    assert drawn == []
    gc.disable()                                      # dropped by reference counting alone
    try:
        del monitor
        assert drawn == [[1.0, 2.0, 3.0, 4.0, 5.0]]
    finally:
        gc.enable()
