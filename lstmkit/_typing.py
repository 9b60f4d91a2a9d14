"""Type aliases of the public API (for type checkers, IDEs and the documentation)."""

from typing import Any, Callable, Sequence, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike

#: A weight initializer: one of MATLAB's names, or ``f(shape) -> array`` (a function handle).
Initializer = Union[str, Callable[[Tuple[int, ...]], np.ndarray]]

#: A learn-rate or L2 factor: a scalar, or one value per gate.
Factor = Union[float, ArrayLike]

#: Predictors: a list of C-by-T arrays (MATLAB's N-by-1 cell array), one C-by-T array,
#: an N-by-C-by-T array, or the object array scipy.io.loadmat returns for a cell array.
Sequences = Union[Sequence[ArrayLike], np.ndarray]

#: Responses or labels, in the forms trainNetwork takes for the network's task.
Targets = Any

#: MATLAB's SequenceLength: 'longest', 'shortest' or a positive integer.
SequenceLength = Union[str, int]

__all__ = ["ArrayLike", "Initializer", "Factor", "Sequences", "Targets", "SequenceLength"]
