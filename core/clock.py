from __future__ import annotations

from datetime import UTC, datetime

from core.ports import Clock


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


__all__ = ["Clock", "SystemClock"]
