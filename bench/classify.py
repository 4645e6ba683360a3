"""Categories that learn (issue 17): how often the office's model suggests, and how often
it is right, on a synthetic but realistic year of several offices.

Each office serves a few organizations; each organization buys from a mix of vendors (some
shared across offices, some of its own). Documents carry what a reading gives: the vendor's
number (missing on a fifth), its name (in variants), OCR words (a third dropped, some
misspelt), the kind and the total. The office's decisions include noise (2% mistakes), vendors
whose category depends on what was bought (a supermarket: meals or office supplies), one
office's own conventions, vendors whose category changes mid-year, and new vendors later on.

Each month is suggested by a model trained on the months before it (the retraining schedule),
from month 4 on. Prints accuracy of suggestions made, share with none, training seconds and
prediction milliseconds per document; the last line is one JSON object.

    .venv/bin/python bench/classify.py [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.smart_filing import words_of
from core.suggestions import CategoryModel, Example, rule_suggestion

GENERIC = [
    *("חשבונית", "מס", "קבלה", "תאריך", "סהכ", "לתשלום", "מעמ"),
    *("מספר", "עוסק", "מורשה", "לכבוד", "כתובת", "טלפון"),
]
VOCAB: dict[str, list[str]] = {
    "fuel": ["דלק", "בנזין", "סולר", "ליטר", "ליטרים", "משאבה", "תדלוק", "95"],
    "vehicle": ["מוסך", "טיפול", "צמיגים", "שמן", "פילטר", "בלמים", "רישוי", "חלקים"],
    "communications": ["סלולר", "חבילה", "גלישה", "אינטרנט", "קו", "שיחות", "חודשי", "ראוטר"],
    "rent": ["שכירות", "חודש", "נכס", "דירה", "משרד", "שכר", "דירה", "חוזה"],
    "office_supplies": ["נייר", "טונר", "עטים", "קלסרים", "מחברות", "דיו", "מעטפות"],
    "meals": ["ארוחה", "קפה", "סלט", "שתייה", "מנה", "קינוח", "לחם"],
    "travel": ["טיסה", "מלון", "לילה", "כרטיס", "נוסע", "מזוודה", "הסעה"],
    "equipment": ["מחשב", "נייד", "מסך", "מדפסת", "מקלדת", "אחריות", "שרת"],
    "insurance": ["ביטוח", "פוליסה", "פרמיה", "כיסוי", "רכב", "אחריות", "מקצועית"],
    "bank_fees": ["עמלה", "עמלות", "חשבון", "העברה", "בנק", "ניהול"],
    "professional_services": ["ייעוץ", "שעות", "שירות", "ליווי", "הנהלת", "חשבונות", "משפטי"],
    "other": ["שונות", "פריט", "כללי", "תרומה", "מתנה"],
}
AMOUNTS = {
    "fuel": (120, 450),
    "vehicle": (300, 3500),
    "communications": (60, 300),
    "rent": (3000, 12000),
    "office_supplies": (40, 600),
    "meals": (30, 400),
    "travel": (400, 5000),
    "equipment": (900, 9000),
    "insurance": (200, 2500),
    "bank_fees": (10, 120),
    "professional_services": (500, 8000),
    "other": (20, 800),
}


@dataclass
class Vendor:
    name: str
    number: str
    categories: dict[str, float]  # what is bought there, how often
    words: list[str]  # the vendor's own words (its slogan, its products)
    change: tuple[int, str, str] | None = None  # (month, from, to): the office changes its mind


def vendors(rng: random.Random, prefix: str, count: int, first_month: int = 1) -> list[Vendor]:
    found = []
    kinds = list(VOCAB)
    for i in range(count):
        main = rng.choice(kinds)
        mix = {main: 1.0}
        if rng.random() < 0.25:  # a store of two kinds of things
            mix[rng.choice([k for k in kinds if k != main])] = rng.uniform(0.2, 0.5)
        found.append(
            Vendor(
                name=f"{prefix} {rng.choice(['סחר', 'שירותים', 'בעמ', 'ובניו', 'גרופ'])} {i}",
                number=f"5{rng.randint(10_000_000, 99_999_999)}",
                categories=mix,
                words=[f"{prefix}מוצר{i}{j}" for j in range(3)],
            )
        )
    return found


def document(
    rng: random.Random, vendor: Vendor, month: int, office_map: dict[str, str]
) -> tuple[Example, str]:
    names, weights = zip(*vendor.categories.items(), strict=True)
    bought = rng.choices(names, weights)[0]
    label = office_map.get(bought, bought)
    if vendor.change and month >= vendor.change[0] and label == vendor.change[1]:
        label = vendor.change[2]
    if rng.random() < 0.02:  # the accountant's mistake
        label = rng.choice(list(VOCAB))
    words = rng.sample(VOCAB[bought], k=min(len(VOCAB[bought]), rng.randint(2, 5)))
    words += rng.sample(GENERIC, k=6) + rng.sample(vendor.words, k=2) + vendor.name.split()
    words = [w for w in words if rng.random() > 0.3]  # OCR drops a third
    words = [w[:-1] + "ו" if len(w) > 3 and rng.random() < 0.05 else w for w in words]
    low, high = AMOUNTS[bought]
    name = vendor.name if rng.random() > 0.2 else vendor.name.replace(" בעמ", "")
    example = Example(
        vendor=("id:" + vendor.number.zfill(9)) if rng.random() > 0.2 else f"name:{name}",
        vendor_name=name,
        words=tuple(words_of(" ".join(words)).split()),
        kind=rng.choice(["tax_invoice", "tax_invoice_receipt", "receipt"]),
        total=round(rng.uniform(low, high), 2),
        at=datetime(2026, month, rng.randint(1, 28), tzinfo=UTC),
    )
    return example, label


def office_year(rng: random.Random, index: int, shared: list[Vendor]) -> list[tuple[Example, str]]:
    own = vendors(rng, f"ספק{index}", 25)
    late = vendors(rng, f"חדש{index}", 6)  # vendors first seen in the second half
    for vendor in rng.sample(own, 2):
        main = max(vendor.categories, key=vendor.categories.__getitem__)
        vendor.change = (rng.randint(5, 9), main, rng.choice([k for k in VOCAB if k != main]))
    # One office's convention: what others call professional services, it files as other.
    office_map = {"professional_services": "other"} if index == 1 else {}
    history = []
    for _organization in range(rng.randint(3, 5)):
        suppliers = rng.sample(shared, 6) + rng.sample(own, 10)
        suppliers += rng.sample(late, 3)
        for month in range(1, 13):
            for _ in range(rng.randint(25, 45)):
                vendor = rng.choice(suppliers)
                if vendor in late and month < 7:
                    continue
                history.append(document(rng, vendor, month, office_map))
    return history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--offices", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shared = vendors(rng, "רשת", 15)
    made = right = none = total = 0
    rules_made = rules_right = 0
    train_seconds: list[float] = []
    predict_seconds = 0.0
    documents = 0
    for index in range(args.offices):
        year = office_year(rng, index, shared)
        for month in range(4, 13):
            seen = [
                Example(**{**vars(e), "category": label})
                for e, label in year
                if e.at is not None and e.at.month < month
            ]
            started = time.perf_counter()
            model = CategoryModel.train(seen, now=datetime(2026, month, 1, tzinfo=UTC))
            train_seconds.append(time.perf_counter() - started)
            assert model is not None
            for example, label in (p for p in year if p[0].at and p[0].at.month == month):
                started = time.perf_counter()
                found = model.suggest(example)  # as core.suggestions.suggest with a model
                predict_seconds += time.perf_counter() - started
                documents += 1
                total += 1
                if found is None:
                    none += 1
                    continue
                made += 1
                right += found.category == label
        # An office with no history: the default chart's keyword rules, on its first month.
        for example, label in (p for p in year if p[0].at and p[0].at.month == 1):
            rule = rule_suggestion(example)
            if rule is not None:
                rules_made += 1
                rules_right += rule.category == label
        print(f"office {index}: {len(year)} documents in the year")
    result = {
        "documents": total,
        "accuracy_of_suggestions": round(right / max(made, 1), 4),
        "share_without_suggestion": round(none / max(total, 1), 4),
        "keyword_rules_accuracy_no_history": round(rules_right / max(rules_made, 1), 4),
        "train_seconds_max": round(max(train_seconds), 3),
        "train_seconds_total": round(sum(train_seconds), 2),
        "predict_ms_per_document": round(predict_seconds / max(documents, 1) * 1000, 3),
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(f"accuracy of suggestions made: {result['accuracy_of_suggestions']:.1%}")
    print(f"documents with no suggestion: {result['share_without_suggestion']:.1%}")
    print(f"training: {result['train_seconds_max']} s at most (one office, one month)")
    print(
        f"keyword rules (no history): {rules_made} suggestions, "
        f"{result['keyword_rules_accuracy_no_history']:.1%} right"
    )
    print(f"prediction: {result['predict_ms_per_document']} ms per document")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
