"""Reverse mode through subscripts: integer indices (constant, argument, negative), x[i, j],
slices with and without steps, x[:, 0], x[..., None], boolean masks, and integer-array indexing
with repeated indices (whose adjoint must accumulate, not overwrite)."""

import numpy as np
import pytest

from oracle import arr, assert_grad, case, signed

# -- integer indices ------------------------------------------------------------------------------


def index_constant(a):
    return a[0] * a[2] + a[1] ** 2


def index_argument(a, i):
    return a[i] ** 3 + a[0]


def index_negative(a):
    return a[-1] * a[-2]


def index_2d(m):
    return m[1, 2] * m[0, 0] + m[0, 1]


def index_2d_arguments(m, i, j):
    return np.sin(m[i, j]) * m[j, i]


def index_chained(m):
    return m[1][2] * m[0][1]


def index_row(m):
    return np.sum(m[1] ** 2) * m[0, 0]


def index_negative_2d(m):
    return m[-1, -2] * np.sum(m[-1])


def index_same_element_twice(a):
    return a[1] * a[1] + a[1]


# -- slices ---------------------------------------------------------------------------------------


def slice_inner(a):
    return np.sum(a[1:-1] ** 2 * a[:-2])


def slice_step(a):
    return np.sum(a[::2] * a[1::2])


def slice_reversed(a):
    return np.sum(a[::-1] * a**2)


def slice_tail(a):
    return np.sum(a[-2:] ** 3)


def slice_step_range(a):
    return np.sum(a[1:5:3] * 2.0) + np.sum(a[4:0:-2] ** 2)


def column(m):
    return np.sum(m[:, 0] * m[:, 1])


def block(m):
    return np.sum(m[:, 1:] ** 2) + np.sum(m[1:, :2] * m[:1, 1:])


def ellipsis_none(a):
    return np.sum(np.sin(a[..., None] * a[None, ...]))


def ellipsis_2d(m):
    return np.sum(m[..., None] * m[..., None, :])


def ellipsis_last(m):
    return np.sum(m[..., 0] ** 2 * m[..., -1])


# -- masks and integer arrays ---------------------------------------------------------------------


def mask_self(a):
    return np.sum(a[a > 0] ** 2)


def mask_other(a, b):
    return np.sum(a[b > 0] * a[b > 0])


def mask_2d(m):
    return np.sum(np.exp(m[m > 0.5]))


def fancy_repeated(a):
    return np.sum(a[np.array([0, 2, 2])] ** 2)


def fancy_pair(a):
    return np.sum(a[np.array([0, 2, 2])] * a[np.array([1, 1, 0])])


def fancy_rows(m):
    return np.sum(m[np.array([1, 1, 0])] ** 3)


def fancy_argument(a, idx):
    return np.sum(np.tanh(a[idx]) * a[idx])


def index_in_loop(a):
    s = 0.0
    for i in range(len(a) - 1):
        s = s + a[i] * a[i + 1]
    return s


V = arr(6)
M = arr(2, 3, seed=1)
SQ = arr(3, 3, seed=2)

CASES = [
    case(index_constant, arr(3)),
    *[case(index_argument, arr(3), i) for i in (0, 2, -1)],
    case(index_negative, V),
    case(index_2d, M),
    *[case(index_2d_arguments, SQ, i, j) for i, j in ((0, 0), (1, 2), (2, -3))],
    case(index_chained, M),
    case(index_row, M),
    case(index_negative_2d, M),
    case(index_same_element_twice, arr(3)),
    case(slice_inner, V),
    case(slice_step, V),
    case(slice_reversed, V),
    case(slice_tail, V),
    case(slice_step_range, V),
    case(column, M),
    case(block, M),
    case(ellipsis_none, arr(3)),
    case(ellipsis_2d, M),
    case(ellipsis_last, M),
    case(mask_self, signed(6)),
    case(mask_self, signed(2, 3, seed=3)),
    case(mask_other, arr(6, seed=4), signed(6, seed=5), wrt=(0, 1)),
    case(mask_2d, np.array([[0.1, 0.9, 1.4], [-0.6, 0.7, 0.3]])),
    case(fancy_repeated, arr(3)),
    case(fancy_pair, arr(3, seed=6)),
    case(fancy_rows, M),
    case(fancy_argument, V, np.array([2, 0, 2, 5, 2])),
    case(index_in_loop, V),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_grad(f, args, kwargs, wrt):
    assert_grad(f, *args, wrt=wrt, **kwargs)


def test_closed_form_repeated_index_accumulates():
    a = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(assert_grad(fancy_repeated, a), [1.0, 0.0, 8.0], rtol=1e-10)
