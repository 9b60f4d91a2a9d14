"""The options every prediction function shares (predict, classify, minibatchpredict, ...)."""

from ._validation import check_choice, check_positive_int, check_real, fail
from .training.options import check_sequence_length


def check_predict_options(func, opts):
    """Check the shared options (``opts`` maps each name to its value); return those that act.

    Returns a dict with MiniBatchSize, SequenceLength, SequencePaddingDirection
    and SequencePaddingValue; ExecutionEnvironment and Acceleration are only
    checked (lstmkit runs compiled kernels on the CPU).
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
    check_choice(func, "ExecutionEnvironment", env, ("auto", "cpu"))
    check_choice(func, "Acceleration", opts["Acceleration"], ("auto", "mex", "none"))
    return out
