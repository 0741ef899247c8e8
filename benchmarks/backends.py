"""Back ends: each turns a workload and its inputs into a zero-argument callable to time.

The optional libraries (autograd, JAX, PyTorch) run the workload's own function: `rebind` gives
its code a copy of the module globals in which `np` names the library's NumPy-like namespace.
A library that cannot be imported raises `Unavailable`; any other exception is a real failure.
"""

from __future__ import annotations

import importlib
import math
import sys
import types
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np

SRC_DIR = Path(__file__).resolve().parents[1] / "src"


class Unavailable(Exception):
    """An optional library is not installed: its column reads n/a."""


def import_sourcegrad():
    """Import sourcegrad from this checkout's src/ (ahead of any installed copy)."""
    if str(SRC_DIR) not in sys.path:
        sys.path.insert(0, str(SRC_DIR))
    return importlib.import_module("sourcegrad")


def optional_import(name: str):
    """Import an optional library, raising Unavailable when it is missing."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise Unavailable(name) from exc


@cache
def _jax():
    """JAX with float64 enabled (must happen before any JAX array exists)."""
    jax = optional_import("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def rebind(func: Callable, np_like) -> Callable:
    """A copy of `func` (and of its module's functions) where the global `np` is `np_like`."""
    namespace = dict(func.__globals__, np=np_like)
    for name, obj in func.__globals__.items():
        if isinstance(obj, types.FunctionType) and obj.__module__ == func.__module__:
            namespace[name] = types.FunctionType(
                obj.__code__, namespace, obj.__name__, obj.__defaults__, obj.__closure__
            )
    return namespace[func.__name__]


def torch_numpy(torch) -> types.SimpleNamespace:
    """The few NumPy names the workloads use, mapped onto torch (scalars become float64)."""

    def tensor(x):
        return x if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=torch.float64)

    def unary(fn):
        return lambda x: fn(tensor(x))

    def reduction(fn):
        def reduce(x, axis=None, keepdims=False):
            return fn(x) if axis is None else fn(x, dim=axis, keepdim=keepdims)

        return reduce

    names = ("sin", "cos", "exp", "log", "log1p", "tanh", "sqrt")
    unaries = {name: unary(getattr(torch, name)) for name in names}
    return types.SimpleNamespace(
        pi=math.pi,
        sum=reduction(torch.sum),
        mean=reduction(torch.mean),
        max=reduction(torch.amax),
        **unaries,
    )


def _int_positions(args: tuple) -> tuple[int, ...]:
    """Positions of int arguments: constants, static under jax.jit."""
    return tuple(i for i, a in enumerate(args) if isinstance(a, int))


def prepare_f(workload, args):
    """The function itself."""
    return lambda: workload.f(*args)


def prepare_hand(workload, args):
    """The hand-written NumPy gradient."""
    return lambda: workload.grad(*args)


def prepare_sourcegrad(workload, args):
    """sourcegrad.grad(f, wrt=...): construction happens here, transformation may be lazy."""
    df = import_sourcegrad().grad(workload.f, wrt=workload.wrt)
    return lambda: df(*args)


def prepare_autograd(workload, args):
    """autograd.grad on the same code with np rebound to autograd.numpy."""
    autograd = optional_import("autograd")
    anp = optional_import("autograd.numpy")
    df = autograd.grad(rebind(workload.f, anp), argnum=workload.wrt)
    return lambda: df(*args)


def _prepare_jax(workload, args, jit: bool):
    """jax.grad on the same code with np rebound to jax.numpy, optionally jitted."""
    jax = _jax()
    df = jax.grad(rebind(workload.f, jax.numpy), argnums=workload.wrt)
    if jit:
        df = jax.jit(df, static_argnums=_int_positions(args))
    jargs = tuple(jax.numpy.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
    return lambda: jax.block_until_ready(df(*jargs))


def prepare_jax_eager(workload, args):
    """JAX without jit: every operation dispatched one by one."""
    return _prepare_jax(workload, args, jit=False)


def prepare_jax_jit(workload, args):
    """jax.jit(jax.grad(f)); compiled on the first (untimed) call."""
    return _prepare_jax(workload, args, jit=True)


def prepare_torch(workload, args):
    """PyTorch eager in float64: forward pass then torch.autograd.grad."""
    torch = optional_import("torch")
    tf = rebind(workload.f, torch_numpy(torch))
    targs = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    leaves = []
    for i in workload.wrt_indices:
        targs[i] = torch.tensor(args[i], dtype=torch.float64, requires_grad=True)
        leaves.append(targs[i])

    def gradient():
        grads = torch.autograd.grad(tf(*targs), leaves)
        return grads if isinstance(workload.wrt, tuple) else grads[0]

    return gradient


BACKENDS: dict[str, Callable] = {
    "f": prepare_f,
    "hand grad": prepare_hand,
    "sourcegrad": prepare_sourcegrad,
    "autograd": prepare_autograd,
    "jax eager": prepare_jax_eager,
    "jax jit": prepare_jax_jit,
    "torch": prepare_torch,
}


def _version(module) -> str:
    """A module's version from its distribution metadata, else its __version__."""
    try:
        return metadata.version(module.__name__)
    except metadata.PackageNotFoundError:
        return getattr(module, "__version__", "unknown version")


def library_versions() -> dict[str, str]:
    """Versions of the libraries compared (or why one is missing)."""
    versions = {"numpy": np.__version__}
    try:
        versions["sourcegrad"] = _version(import_sourcegrad())
    except Exception as exc:  # reported in the header, not fatal
        versions["sourcegrad"] = f"import failed ({type(exc).__name__})"
    for name in ("autograd", "jax", "torch"):
        try:
            versions[name] = _version(optional_import(name))
        except Unavailable:
            versions[name] = "not installed"
    return versions
