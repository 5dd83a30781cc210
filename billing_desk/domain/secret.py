"""``Secret``: a configured secret (a gateway key, the voucher code key) held so that it
never prints.

It lives in the pure domain layer because the configuration creates secrets and the
services (the gateway adapters, the voucher codes) use them, and neither may import the other.
"""

from __future__ import annotations


class Secret:
    """A string that refuses to show itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
