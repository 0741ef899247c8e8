"""A module of the user's project whose functions other test modules call (by name and by
module attribute)."""

import numpy as np

SCALE = 2.5


def squash(x, w):
    return np.tanh(w * x) * SCALE
