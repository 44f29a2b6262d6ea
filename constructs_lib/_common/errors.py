"""Errors raised while building constructs from configuration."""

from __future__ import annotations


class PropsError(ValueError):
    """A construct refused its props. `field` is the config path the user has to change.

    `main.py` reports it like a configuration error: file, field, problem, non-zero exit, nothing written.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}")
