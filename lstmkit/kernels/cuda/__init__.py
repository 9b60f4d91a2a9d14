"""CUDA kernels (numba-cuda): the GPU counterparts of the CPU kernels, same packed layout.

Imported only by the GPU path and its tests (it imports ``numba.cuda``).
Arrays in, arrays out, no validation, as every kernel module.  The gate math
is the CPU kernels' own scalar functions (:func:`lstmkit.kernels.lstm.lstm_unit`,
:mod:`lstmkit.kernels.activations`), compiled by numba-cuda for the device.
"""
