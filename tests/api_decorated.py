"""Functions decorated with sourcegrad.grad where they are defined, for test_api.py.

A separate module, imported inside the tests, so that a failing decorator fails those tests only
and not the collection of test_api.py.
"""

import numpy as np

from sourcegrad import grad


@grad
def d_cube(x):
    return x**3


@grad(wrt=1)
def d_wrt_index(x, y):
    return x * np.sin(y)


@grad(wrt="y")
def d_wrt_name(x, y):
    return x * y**2


@grad(wrt=(0, "y"))
def d_wrt_tuple(x, y):
    return np.sum(x * x * y)
