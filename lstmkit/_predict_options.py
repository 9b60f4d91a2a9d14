"""The options every prediction function shares (predict, classify, minibatchpredict, ...)."""

from ._device import resolve_environment
from ._validation import check_choice, check_positive_int, check_real, fail
from .training.options import PARALLEL, check_sequence_length


def check_predict_options(func, opts, parallel=False):
    """Check the shared options (``opts`` maps each name to its value); return those that act.

    Returns a dict with MiniBatchSize, SequenceLength, SequencePaddingDirection,
    SequencePaddingValue and ExecutionEnvironment (where the call runs: 'gpu'
    and 'multi-gpu' fall back to 'cpu' with a warning where lstmkit cannot use
    a GPU, see :mod:`lstmkit._device`); Acceleration is only checked
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
    if isinstance(env, str) and env.lower() in PARALLEL and not parallel:
        if func.endswith("AndUpdateState"):
            fail(func, f"ExecutionEnvironment='{env}' is not possible: {func} keeps the "
                       f"network's state in this process. Use 'auto' or 'cpu'.")
        fail(func, f"ExecutionEnvironment='{env}' is not supported by {func}; run it on the "
                   f"pool with parfeval({func}, 1, ...), or use 'auto' or 'cpu'.")
    env = check_choice(func, "ExecutionEnvironment", env,
                       ("auto", "cpu", "gpu", "multi-gpu") + (PARALLEL if parallel else ()))
    out["ExecutionEnvironment"] = resolve_environment(func, env)
    check_choice(func, "Acceleration", opts["Acceleration"], ("auto", "mex", "none"))
    return out
