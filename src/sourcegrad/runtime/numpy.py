"""Runtime helpers for the NumPy function rules beyond the core ones."""

__all__: list[str] = []
