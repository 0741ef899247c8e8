"""Runtime helpers for the numpy.linalg rules."""

__all__: list[str] = []
