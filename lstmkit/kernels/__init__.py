"""Numba kernels: every ``@njit`` of lstmkit lives in this package.

Kernels take contiguous arrays of one floating dtype and return or fill arrays;
they never validate.  The checked entry points are the layers and functions of
:mod:`lstmkit`.

Importing the package first points Numba's cache for these kernels at a user
cache folder, never inside the installed package, and makes the names of the
parallel loops a process compiles its own, so that kernels cached by different
processes never clash (see :mod:`._cache`).
"""

from ._cache import install_locator, install_notice, salt_parallel_loop_names

install_locator()
install_notice()
salt_parallel_loop_names()
