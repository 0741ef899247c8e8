"""Errors sourcegrad raises, all under one base class.

Every error about the user's code carries where it happened (file, line, function) and shows the
line with a caret under the culprit, then says why and what to do instead.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Where a node of the user's code came from: absolute file position and function name."""

    filename: str
    lineno: int
    col_offset: int = 0
    end_col_offset: int | None = None
    function: str = "<unknown>"

    @property
    def short(self) -> str:
        """`file.py:12`, the form used in comments of the emitted code."""
        return f"{self.filename.rsplit('/', 1)[-1]}:{self.lineno}"

    def line_text(self) -> str:
        return linecache.getline(self.filename, self.lineno).rstrip("\n")

    def render(self) -> str:
        """The location block of an error: file:line, the line, a caret under the culprit."""
        text = self.line_text()
        head = f"  {self.filename}:{self.lineno}, in {self.function}"
        if not text:
            return head
        stripped = text.lstrip()
        indent = len(text) - len(stripped)
        start = max(self.col_offset - indent, 0)
        end = self.end_col_offset - indent if self.end_col_offset else len(stripped)
        width = max(min(end, len(stripped)) - start, 1)
        return f"{head}\n      {stripped}\n      {' ' * start}{'^' * width}"


class SourcegradError(Exception):
    """Base class of every error sourcegrad raises on purpose."""


class UserCodeError(SourcegradError):
    """An error about a place in the user's code: message = what, where, why, what to do."""

    def __init__(self, what: str, origin: Origin | None, why: str = "", hint: str = ""):
        self.what, self.origin, self.why, self.hint = what, origin, why, hint
        parts = [what]
        if origin is not None:
            parts.append(origin.render())
        if why:
            parts.append(why)
        if hint:
            parts.append(hint)
        super().__init__("\n".join(parts))


class UnsupportedSyntaxError(UserCodeError):
    """A construct sourcegrad cannot differentiate, such as try/except or yield.

    Example::

        sourcegrad.UnsupportedSyntaxError: try/except is not supported
          model.py:7, in f
              try:
              ^^^^
        ...
    """


class NoRuleError(UserCodeError):
    """A call to a function with no derivative rule and no Python source to transform."""


class SourceUnavailableError(SourcegradError):
    """The function's source cannot be read (defined in a REPL, a builtin, compiled code)."""


class WrtError(SourcegradError):
    """`wrt` names no parameter of the function, or is an index out of range."""


class NonScalarOutputError(SourcegradError):
    """`grad` was asked for a function whose output is not a scalar."""


class NonDifferentiableInputError(SourcegradError):
    """An argument sourcegrad cannot take: a `wrt` argument that is not a float, a float array,
    a container of those or an object of the user's; an array of another library anywhere.

    Example::

        sourcegrad.NonDifferentiableInputError: cannot differentiate loss with respect to w:
        it is a torch.Tensor, an array of another library ...
    """


class HigherOrderError(SourcegradError):
    """A derivative sourcegrad made (`grad`, `value_and_grad`, a `vjp` pullback) was handed to
    `grad`, `value_and_grad`, `vjp` or `check_grad`: higher-order derivatives are not built yet.

    Example::

        sourcegrad.HigherOrderError: cannot differentiate <sourcegrad derivative of cube with
        respect to x>: it is a derivative sourcegrad made ...
    """


class TemplateError(SourcegradError):
    """A derivative rule or template was filled wrongly (missing or unused placeholders)."""


class InternalError(SourcegradError):
    """This is a sourcegrad bug: please report it with the function that triggered it."""
