"""Helpers for enums stored as strings, each member carrying its French title."""

import enum

from sqlalchemy import Enum

_TITLES: dict[type, dict] = {}


def db_enum(cls: type[enum.Enum], length: int = 30, name: str | None = None) -> Enum:
    """Store an enum as its value in a VARCHAR with a CHECK constraint (portable).

    ``name`` names the CHECK constraint when one table has two columns of the same enum.
    """
    return Enum(
        cls,
        name=name or cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def titled(titles: dict):
    """Class decorator: attach French titles (lazy strings keyed by value) to an enum."""

    def attach(cls):
        _TITLES[cls] = titles
        return cls

    return attach


class TitledEnum(enum.StrEnum):
    """A string enum whose members have a French ``title`` (see ``titled``)."""

    @property
    def title(self) -> str:
        return str(_TITLES[type(self)][self.value])

    @property
    def lazy_title(self):
        """The title as a lazy string, for choices built at import time."""
        return _TITLES[type(self)][self.value]

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        """(value, lazy title) pairs for a select field (translated when rendered)."""
        return [(member.value, member.lazy_title) for member in cls]
