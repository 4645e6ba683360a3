"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from core.domain import Answer


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class EnumText(TypeDecorator[enum.Enum]):
    """An enum kept as its plain string value (no database enum types to migrate)."""

    impl = String(30)
    cache_ok = True

    def __init__(self, enum_class: type[enum.Enum], length: int = 30) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(self.enum_class(value).value)

    def process_result_value(self, value: Any, dialect: Dialect) -> enum.Enum | None:
        return None if value is None else self.enum_class(value)


class Answers(TypeDecorator[list[Answer]]):
    """A document's answers (core.domain.Answer) as a JSON list, moments as ISO text."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[Answer] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return [
            {
                "kind": a.kind,
                **({"text": a.text} if a.text is not None else {}),
                **({"sha256": a.sha256} if a.sha256 is not None else {}),
                "by": a.by,
                "at": a.at.isoformat(),
            }
            for a in value
        ]

    def process_result_value(self, value: Any, dialect: Dialect) -> list[Answer] | None:
        if value is None:
            return None
        return [
            Answer(
                kind=str(a["kind"]),
                by=int(a["by"]),
                at=datetime.fromisoformat(a["at"]),
                text=a.get("text"),
                sha256=a.get("sha256"),
            )
            for a in value
        ]
