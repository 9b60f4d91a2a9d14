"""Numba kernels: every ``@njit`` of lstmkit lives in this package.

Kernels take contiguous arrays of one floating dtype and return or fill arrays;
they never validate.  The checked entry points are the layers and functions of
:mod:`lstmkit`.
"""
