"""One language for the whole chat (issue 11): every text used, one register, one formatter."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from core.deadlines.periods import Period
from handlers.texts import Texts, catalog

ROOT = Path(__file__).resolve().parents[2]
# Code that talks to users; the formatter itself and the fake Telegram server are not.
USER_FACING = [ROOT / "handlers", ROOT / "bot", ROOT / "core"]
NOT_USER_FACING = {"handlers/texts.py"}
SKIPPED_DIRS = ("local_api", "bot/ocr", "core/reading")


def sources() -> list[Path]:
    found = []
    for folder in USER_FACING:
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in NOT_USER_FACING or relative.startswith(SKIPPED_DIRS):
                continue
            found.append(path)
    return found


def used_keys() -> tuple[set[str], set[str]]:
    """Every string constant in the code, and every prefix a key is built from at run time
    (f"kind.{kind}", "review.done_" + which)."""
    literals: set[str] = set()
    prefixes: set[str] = set()
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    prefixes.add(first.value)
            elif (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Add)
                and isinstance(node.left, ast.Constant)
                and isinstance(node.left.value, str)
            ):
                prefixes.add(node.left.value)
    return literals, {p for p in prefixes if re.fullmatch(r"[a-z_]+(\.[a-z_]+)*[._]", p)}


def test_every_locale_key_is_in_both_languages_and_used_by_the_code() -> None:
    hebrew, english = catalog("he"), catalog("en")
    assert set(hebrew) == set(english)
    literals, prefixes = used_keys()
    # Built from a variable prefix: `choices(t, "vat", ...)` in handlers/organizations.py.
    prefixes |= {"vat."}
    unused = [
        key
        for key in hebrew
        if key not in literals and not any(key.startswith(p) for p in prefixes)
    ]
    assert unused == []


SLASH_FORMS = re.compile(r"[\u05d0-\u05ea]+/[\u05d9\u05d4\u05ea]\b|/ה\b|/י\b|/ת\b")


def test_hebrew_speaks_to_people_in_the_plural_only() -> None:
    """One register: "שלחו", "בחרו", "בקשו", never "שלח/י" or "את/ה"."""
    mixed = {
        key: text
        for key, text in catalog("he").items()
        if SLASH_FORMS.search(text) and not key.startswith("role.")
    }
    assert mixed == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Falafel Ltd", "הצטרפתם ל-Falafel Ltd."),
        ('פלאפל בע"מ', 'הצטרפתם לפלאפל בע"מ.'),
        ("2Go", "הצטרפתם ל-2Go."),
    ],
)
def test_a_hebrew_prefix_takes_a_maqaf_before_a_latin_name(name: str, expected: str) -> None:
    assert expected in Texts("he")("start.joined_org", org=name)
    assert f"joined {name}." in Texts("en")("start.joined_org", org=name)


# --- dates and amounts: only through Texts.date / Texts.amount ----------------------------

DATE_SPEC = re.compile(r"%[dmYyBbA]")
AMOUNT_SPEC = re.compile(r"^[,_]?\.\d+f$|^,\.\d+f$")


def formatting_outside_the_helper() -> list[str]:
    found = []
    for path in sources():
        if path.as_posix().startswith((ROOT / "core").as_posix()):
            continue  # the core formats nothing for people
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            if is_call and node.func.attr == "strftime":  # type: ignore[attr-defined]
                found.append(f"{where}:{node.lineno} strftime")
            if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
                spec = "".join(
                    v.value
                    for v in getattr(node.format_spec, "values", [])
                    if isinstance(v, ast.Constant)
                )
                if DATE_SPEC.search(spec) or AMOUNT_SPEC.search(spec):
                    found.append(f"{where}:{node.lineno} f-string format {spec!r}")
    return found


def test_no_date_or_amount_is_formatted_outside_the_one_helper() -> None:
    assert formatting_outside_the_helper() == []


def test_the_formatter_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The check above can fail: the same walk over a bad file finds both kinds."""
    bad = "def f(d, x):\n    return f'{d:%d.%m.%Y} {x:,.2f}' + d.strftime('%Y')\n"
    tree = ast.parse(bad)
    specs = [
        "".join(v.value for v in n.format_spec.values if isinstance(v, ast.Constant))
        for n in ast.walk(tree)
        if isinstance(n, ast.FormattedValue) and n.format_spec is not None
    ]
    assert any(DATE_SPEC.search(s) for s in specs) and any(AMOUNT_SPEC.search(s) for s in specs)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert any(isinstance(c.func, ast.Attribute) and c.func.attr == "strftime" for c in calls)


@pytest.mark.parametrize("language", ["he", "en"])
def test_a_month_reads_the_same_wherever_it_is_shown(language: str) -> None:
    """One form for a month or period: /vat's expected lines ("2026-10") and its periods."""
    t = Texts(language)
    assert t.period("2026-10") == t.period(Period.month(2026, 10)) == "10/2026"
    assert t.period(Period.bimonth(2026, 10)) == "09-10/2026"
    assert t.period(Period.year(2026)) == "2026"
    assert "10/2026" in t("expected.title", month=t.period("2026-10"))


def test_hebrew_writes_one_maqaf_the_one_the_prefix_helper_writes() -> None:
    """ "ב-/expected", "ל-1": a hyphen, as `with_maqaf` writes it, not the maqaf U+05BE."""
    assert {key: text for key, text in catalog("he").items() if "\u05be" in text} == {}
    assert "ב-09:00" in Texts("he")(
        "schedule.current",
        cutoff=5,
        offsets="7, 3",
        reminder_at="09:00",
        digest_at="08:00",
        quiet_from="21:00",
        quiet_until="08:00",
    )
