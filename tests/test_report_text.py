"""The /tofile lines, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain import ReportRow
from handlers.review_render import report_text
from handlers.texts import Texts

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("language", ["he", "en"])
def test_an_organization_where_only_the_client_has_work_says_nothing_is_to_file(
    language: str,
) -> None:
    t = Texts(language)
    rows = [
        ReportRow(1, "Falafel Ltd", 2, NOW - timedelta(days=3), 0, False, 0),
        ReportRow(2, "Hummus Bros", 0, None, 1, False, 1),
    ]
    falafel, hummus = report_text(t, rows, NOW, 0).splitlines()[1:]
    assert falafel == t("review.report_line", org="Falafel Ltd", count=2, days=3)
    assert hummus == " ".join(
        [
            t("review.report_line_none", org="Hummus Bros"),
            t("review.report_returned", count=1),
            t("review.report_retake", count=1),
        ]
    )
    assert t("review.report_line_today", org="Hummus Bros", count=0) not in hummus
