"""The options every prediction function shares (predict, classify, minibatchpredict, ...)."""

from ._validation import check_choice, check_positive_int, check_real, fail
from .training.options import PARALLEL, check_sequence_length


def check_predict_options(func, opts, parallel=False):
    """Check the shared options (``opts`` maps each name to its value); return those that act.

    Returns a dict with MiniBatchSize, SequenceLength, SequencePaddingDirection,
    SequencePaddingValue and ExecutionEnvironment; Acceleration is only checked
    (lstmkit runs compiled kernels).  ``parallel``: the function can predict
    on the parallel pool ('parallel', 'parallel-cpu', 'parallel-auto').
    """
    out = {
        "MiniBatchSize": check_positive_int(func, "MiniBatchSize", opts["MiniBatchSize"]),
        "SequenceLength": check_sequence_length(func, opts["SequenceLength"]),
        "SequencePaddingDirection": check_choice(
            func, "SequencePaddingDirection", opts["SequencePaddingDirection"], ("right", "left")),
        "SequencePaddingValue": check_real(func, "SequencePaddingValue",
                                           opts["SequencePaddingValue"]),
    }
    env = opts["ExecutionEnvironment"]
    if isinstance(env, str) and env.lower() in ("gpu", "multi-gpu"):
        fail(func, f"ExecutionEnvironment='{env}' is not supported: lstmkit runs on the CPU. "
                   f"Use 'auto' or 'cpu'.")
    if isinstance(env, str) and env.lower() in PARALLEL and not parallel:
        if func.endswith("AndUpdateState"):
            fail(func, f"ExecutionEnvironment='{env}' is not possible: {func} keeps the "
                       f"network's state in this process. Use 'auto' or 'cpu'.")
        fail(func, f"ExecutionEnvironment='{env}' is not supported by {func}; run it on the "
                   f"pool with parfeval({func}, 1, ...), or use 'auto' or 'cpu'.")
    out["ExecutionEnvironment"] = check_choice(
        func, "ExecutionEnvironment", env, ("auto", "cpu") + (PARALLEL if parallel else ()))
    check_choice(func, "Acceleration", opts["Acceleration"], ("auto", "mex", "none"))
    return out
