"""The small runtime that emitted derivatives import (`from sourcegrad.runtime import ...`).

NumPy only. Each helper does one thing a rule would otherwise spell out in many lines, and is
named for what it does. One module per family, as in `rules/`; everything is re-exported here.
"""

from .checked import *  # noqa: F403
from .checked import __all__ as _checked
from .core import *  # noqa: F403
from .core import __all__ as _core
from .fft import *  # noqa: F403
from .fft import __all__ as _fft
from .linalg import *  # noqa: F403
from .linalg import __all__ as _linalg
from .numpy import *  # noqa: F403
from .numpy import __all__ as _numpy
from .numpy_arrays import *  # noqa: F403
from .numpy_arrays import __all__ as _numpy_arrays

__all__ = [*_checked, *_core, *_fft, *_linalg, *_numpy, *_numpy_arrays]
