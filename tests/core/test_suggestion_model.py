"""The office model suggests from plain numbers exactly as scikit-learn would: the
probabilities of `CategoryModel` equal `predict_proba` of the model it was trained as."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.suggestions import CategoryModel, Example, _features, fit

START = datetime(2026, 1, 1, tzinfo=UTC)
VENDORS = {
    "fuel": ("510000003", "דלק בנזין ליטר תחנה"),
    "communications": ("520000029", "אינטרנט חבילה גלישה חודשי"),
    "rent": ("513000004", "שכירות חודש משרד נכס"),
}


def history(categories: list[str]) -> list[Example]:
    examples = []
    for n in range(36):
        category = categories[n % len(categories)]
        vendor, words = VENDORS[category]
        examples.append(
            Example(
                vendor=vendor if n % 3 else None,  # some without a vendor: words only
                vendor_name=None,
                words=tuple(words.split()[: 2 + n % 3]),
                kind="tax_invoice",
                total=float(10 ** (n % 4)),
                category=category,
                at=START + timedelta(days=n),
            )
        )
    return examples


PROBES = [
    Example("510000003", "Paz", ("תחנה", "ליטר"), "tax_invoice", 120.0),
    Example(None, None, ("חבילה", "גלישה"), "tax_invoice", 99.0),
    Example(None, None, ("פריט",), "receipt", None),  # nothing the model knows
    Example("513000004", None, ("חודש",), "tax_invoice", 8000.0),
]


@pytest.mark.parametrize("categories", [["fuel", "rent"], ["fuel", "communications", "rent"]])
def test_plain_probabilities_equal_scikit_learns(categories: list[str]) -> None:
    examples = history(categories)
    fitted = fit(examples)
    model = CategoryModel.train(examples)
    assert fitted is not None and model is not None
    vectorizer, classifier, last, _, _ = fitted
    assert model.classes == tuple(classifier.classes_)
    for probe in PROBES:
        features = _features(probe, last.get(probe.vendor or ""))
        expected = classifier.predict_proba(vectorizer.transform([features]))[0].tolist()
        row = sorted(model.columns[f] for f in features if f in model.columns)
        assert model.probabilities(row) == pytest.approx(expected, abs=1e-9)
    best = model.suggest(PROBES[0])
    assert best is not None and best.category == "fuel"
