"""Categories that learn (issue 17): per office, a model of its own approved documents
suggests a category with a confidence and a reason the accountant can read.

Features: the vendor (business number, else name), the category last chosen for that vendor,
the document's words, its kind and the size of its total. scikit-learn's logistic regression
does the learning; its weights give the reason ("the words 'fuel' and 'liters'"). Below
`THRESHOLD` nothing is suggested. An office with too little history gets the default chart's
keyword rules instead. Offices never share a model or data: the cache is keyed by office.

scikit-learn is a numerical library (numpy/scipy level), not a framework, so it may live in
`core`; it is imported only where a model is trained: in a process of its own (`TrainApart`),
since it costs about a second and 90 MB that the bot's process need not pay. The trained
model is plain numbers; suggesting from it needs only Python.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from core.categories import CATEGORIES, vendor_key
from core.child_process import die_with_parent
from core.domain import Document
from core.ports import UnitOfWork

log = logging.getLogger(__name__)

WORDS = "_words"
THRESHOLD = 0.6  # below this the model says nothing (bench/classify.py: 97% right above it)
MIN_HISTORY = 20  # fewer approved documents than this: the keyword rules only
HALF_LIFE_DAYS = 120.0  # older decisions weigh less: a vendor's category may change
RETRAIN_SECONDS = 120.0  # an office's model is rebuilt at most this often
FIRST_MODEL_WAIT_SECONDS = 0.0  # a card's wait for its office's first model (Models)
HISTORY_LIMIT = 5000  # newest decisions learned from

# The default chart's keyword rules: a word of the document that names its category.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "fuel": ("דלק", "סולר", "בנזין", "ליטר", "ליטרים", "fuel", "diesel", "petrol", "liters"),
    "vehicle": ("מוסך", "צמיגים", "רישוי", "ליסינג", "garage", "tyres", "tires", "leasing"),
    "communications": ("סלולר", "אינטרנט", "טלפון", "תקשורת", "internet", "mobile", "phone"),
    "rent": ("שכירות", "שכר דירה", "rent", "lease"),
    "office_supplies": ("נייר", "טונר", "משרדי", "toner", "stationery"),
    "meals": ("מסעדה", "ארוחה", "קפה", "restaurant", "meal", "coffee"),
    "travel": ("טיסה", "מלון", "flight", "hotel", "airline"),
    "insurance": ("ביטוח", "פוליסה", "insurance", "policy"),
    "bank_fees": ("עמלה", "עמלות", "bank", "commission"),
    "professional_services": ("ייעוץ", "עורך דין", "consulting", "legal", "audit"),
    "equipment": ("מחשב", "מדפסת", "laptop", "printer", "computer"),
}


class Reason(StrEnum):
    VENDOR = "vendor"  # like N earlier documents of this vendor
    WORDS = "words"  # the words that weighed most
    RULE = "rule"  # the default chart's keyword


@dataclass(frozen=True)
class Suggestion:
    category: str
    confidence: float
    reason: Reason
    count: int = 0  # earlier documents of the vendor in this category
    vendor: str | None = None  # the vendor's name as read
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    """What the model sees of a document (and, when learning, what the office chose)."""

    vendor: str | None
    vendor_name: str | None
    words: tuple[str, ...]
    kind: str
    total: float | None
    category: str | None = None
    at: datetime | None = None


def _value(document: Document, name: str) -> str | None:
    entry = document.fields.get(name)
    if isinstance(entry, dict) and entry.get("value"):
        return str(entry["value"])
    return None


def chosen(document: Document) -> str | None:
    value = document.category
    return value if value in CATEGORIES else None


def example_of(document: Document) -> Example:
    total: float | None = None
    if raw := _value(document, "total"):
        try:
            total = float(Decimal(raw.replace(",", "")))
        except (InvalidOperation, ValueError):
            total = None
    words = document.fields.get(WORDS)
    return Example(
        vendor=vendor_key(document),
        vendor_name=_value(document, "vendor_name"),
        words=tuple(words.split()) if isinstance(words, str) else (),
        kind=document.kind.value,
        total=total,
        category=chosen(document),
        at=document.updated_at or document.created_at,
    )


def _features(example: Example, last: str | None) -> dict[str, float]:
    found: dict[str, float] = {f"k={example.kind}": 1.0}
    if example.vendor:
        found[f"v={example.vendor}"] = 1.0
    if last:
        found[f"last={last}"] = 1.0
    for word in example.words:
        found[f"w={word}"] = 1.0
    if example.total is not None:
        # Orders of magnitude: rent is thousands, coffee tens.
        found[f"amount={int(math.log10(abs(example.total) + 1))}"] = 1.0
    return found


def rule_suggestion(example: Example) -> Suggestion | None:
    """The keyword rules: one category's word in the document, and no other's."""
    text = " ".join(example.words)
    hits: dict[str, list[str]] = {}
    for category, words in KEYWORDS.items():
        for word in words:
            if (f" {word} " in f" {text} ") and word not in hits.get(category, []):
                hits.setdefault(category, []).append(word)
    if len(hits) != 1:
        return None
    category, hit = next(iter(hits.items()))
    return Suggestion(category, 0.7, Reason.RULE, words=tuple(hit[:2]))


@dataclass
class CategoryModel:
    """One office's model, as plain numbers: the columns of its features, and per class
    the weights of a logistic regression. scikit-learn learns them (`train`, in a process of
    its own: see `Models`); `suggest` needs nothing but Python (a sparse dot product)."""

    columns: dict[str, int]  # feature -> its column in each row of `weights`
    classes: tuple[str, ...]
    weights: list[array[float]]  # one row per class (a single row: two classes)
    intercepts: tuple[float, ...]
    last_for_vendor: dict[str, str]
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: int = 0

    @classmethod
    def train(
        cls, history: Sequence[Example], now: datetime | None = None
    ) -> CategoryModel | None:
        """None when the history is too small or names a single category."""
        fitted = fit(history, now)
        if fitted is None:
            return None
        vectorizer, classifier, last, counts, examples = fitted
        return cls(
            columns={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
            classes=tuple(str(c) for c in classifier.classes_),
            weights=[array("d", row) for row in classifier.coef_.tolist()],
            intercepts=tuple(float(b) for b in classifier.intercept_.tolist()),
            last_for_vendor=last,
            counts=counts,
            examples=examples,
        )

    def probabilities(self, row: Sequence[int]) -> list[float]:
        """scikit-learn's `predict_proba` for one row of ones at these columns: the
        logistic function for two classes, the softmax of the class scores for more."""
        scores = [
            b + math.fsum(w[j] for j in row)
            for w, b in zip(self.weights, self.intercepts, strict=True)
        ]
        if len(self.classes) <= 2:
            p = _expit(scores[0])
            return [1 - p, p]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = math.fsum(exps)
        return [e / total for e in exps]

    def suggest(self, example: Example, last: str | None = None) -> Suggestion | None:
        last = last or self.last_for_vendor.get(example.vendor or "")
        features = _features(example, last)
        row = sorted(self.columns[f] for f in features if f in self.columns)
        probabilities = self.probabilities(row)
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        confidence = float(probabilities[best])
        if confidence < THRESHOLD:
            return None
        category = self.classes[best]
        count = self.counts.get((example.vendor or "", category), 0)
        if example.vendor and count >= 2:
            return Suggestion(category, confidence, Reason.VENDOR, count, example.vendor_name)
        words = [f for f in features if f in self.columns and f.startswith("w=")]
        return Suggestion(category, confidence, Reason.WORDS, words=self._words_for(words, best))

    def _words_for(self, words: Sequence[str], best: int) -> tuple[str, ...]:
        """The document's two words that pushed hardest towards the category."""
        weights = self.weights[best] if len(self.weights) > 1 else self.weights[0]
        pushes = [
            (weights[self.columns[name]], name[2:])
            for name in words
            if weights[self.columns[name]] > 0
        ]
        return tuple(word for _, word in sorted(pushes, reverse=True)[:2])


def fit(
    history: Sequence[Example], now: datetime | None = None
) -> tuple[Any, Any, dict[str, str], Counter[tuple[str, str]], int] | None:
    """scikit-learn's vectorizer and logistic regression fitted to the office's decisions,
    with each vendor's last category and the (vendor, category) counts; None when the
    history is too small or names a single category."""
    labelled = sorted(
        (e for e in history if e.category is not None),
        key=lambda e: e.at or datetime.min,
    )
    if len(labelled) < MIN_HISTORY or len({e.category for e in labelled}) < 2:
        return None
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    last: dict[str, str] = {}
    rows, labels, weights = [], [], []
    newest = now or labelled[-1].at
    for example in labelled:
        assert example.category is not None
        # What was last chosen for the vendor *before* this document: the model learns
        # how far to trust the vendor's latest choice.
        rows.append(_features(example, last.get(example.vendor or "")))
        labels.append(example.category)
        age = (newest - example.at).days if newest and example.at else 0
        weights.append(0.5 ** (max(age, 0) / HALF_LIFE_DAYS))
        if example.vendor:
            last[example.vendor] = example.category
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows)
    classifier = LogisticRegression(C=4.0, max_iter=400)
    classifier.fit(matrix, labels, sample_weight=weights)
    counts = Counter((e.vendor, e.category) for e in labelled if e.vendor and e.category)
    return vectorizer, classifier, last, counts, len(labelled)


def _expit(score: float) -> float:
    """1 / (1 + e^-x), without overflowing e^-x for a very negative x."""
    if score >= 0:
        return 1 / (1 + math.exp(-score))
    e = math.exp(score)
    return e / (1 + e)


Trainer = Callable[[Sequence[Example]], Awaitable[CategoryModel | None]]


# The training process runs this far below the bot (as the reading processes do): its
# seconds of import and fitting take a core the bot's answers come before.
TRAIN_NICE = 10


def _start_trainer(parent: int, nice: int) -> None:
    die_with_parent(parent)
    if nice:
        os.nice(nice)


class TrainApart:
    """Trains in a process of its own: scikit-learn (with numpy and scipy, about 90 MB)
    never enters the bot's process. The process is started for the first training and
    stopped after `idle_seconds` without one, so a busy office's retraining does not pay
    scikit-learn's import (seconds on a loaded machine) each time, and a quiet bot keeps
    no such process. `spawn`: nothing of the bot (event loop, sockets) is copied into it."""

    # 30 minutes: an accountant's break (lunch, a meeting) should not cost the next card a
    # process start and scikit-learn's import (3-8 s); the idle process is ~150 MB outside
    # the bot, which the machine can spare for that long.
    def __init__(self, idle_seconds: float = 1800.0) -> None:
        self.idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._stopping: asyncio.TimerHandle | None = None

    async def __call__(self, history: Sequence[Example]) -> CategoryModel | None:
        if self._stopping is not None:
            self._stopping.cancel()
            self._stopping = None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_trainer,
                initargs=(os.getpid(), TRAIN_NICE),
            )
        pool = self._pool
        self._busy += 1
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, CategoryModel.train, list(history))
        except BrokenProcessPool:
            # The training process died (out of memory, killed): no model this time, the
            # keyword rules stand in; the next suggestion starts a new process.
            log.exception("the category model's training process died")
            self._stop(pool)
            return None
        finally:
            self._busy -= 1
            if self._busy == 0 and self._pool is pool:
                self._stopping = loop.call_later(self.idle_seconds, self._stop, pool)

    def _stop(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stops the training process now (the bot is stopping)."""
        if self._stopping is not None:
            self._stopping.cancel()
            self._stopping = None
        if self._pool is not None:
            self._stop(self._pool)


@dataclass
class _Entry:
    model: CategoryModel | None
    built: float
    decisions: tuple[int, datetime | None]


class Models:
    """Each office's model, rebuilt when its decisions changed (a document filed, a category
    chosen and filed), at most every `retrain_seconds`. Only an office's first model is
    waited for; after that a card gets the model the office has (even a stale one) at once,
    and the retraining runs in the background (one per office), its model replacing the old
    one when done. An office that files nothing costs one small count per suggestion."""

    def __init__(
        self,
        retrain_seconds: float = RETRAIN_SECONDS,
        trainer: Trainer | None = None,
        first_wait_seconds: float | None = None,
    ) -> None:
        self.retrain_seconds = retrain_seconds
        self.trainer: Trainer = trainer or TrainApart()
        # How long a card waits for an office's first model (None: until it is trained).
        # Past it the card shows the keyword rules' suggestion and the model comes for the
        # next card: a first training starts the training process and imports scikit-learn,
        # 3-14 s on a busy machine, once per office after every start of the bot. The bot
        # waits 0: even half a second made every card opened during that training wait it
        # (bench/web.py's review p99 0.52 s).
        self.first_wait_seconds = first_wait_seconds
        self._entries: dict[int, _Entry] = {}
        # The background retrainings, by office: at most one each, and referenced here so
        # the event loop does not drop them half way.
        self._retraining: dict[int, asyncio.Task[None]] = {}

    async def close(self) -> None:
        """Cancels the background retrainings and stops the training process."""
        await self._cancel(list(self._retraining.values()))
        close = getattr(self.trainer, "close", None)
        if close is not None:
            close()

    def forget(self, office_id: int | None = None) -> None:
        if office_id is None:
            self._entries.clear()
            tasks = list(self._retraining.values())
        else:
            self._entries.pop(office_id, None)
            tasks = [t for t in [self._retraining.get(office_id)] if t is not None]
        for task in tasks:
            if not task.get_loop().is_closed():
                task.cancel()  # its model would be of the history forgotten

    async def _cancel(self, tasks: list[asyncio.Task[None]]) -> None:
        loop = asyncio.get_running_loop()
        ours = [t for t in tasks if t.get_loop() is loop]
        for task in tasks:
            if not task.get_loop().is_closed():
                task.cancel()
        await asyncio.gather(*ours, return_exceptions=True)

    def _current(self, entry: _Entry | None, decisions: tuple[int, datetime | None]) -> bool:
        if entry is None:
            return False
        if entry.decisions == decisions:
            return True
        if decisions[0] < entry.decisions[0]:
            return False  # fewer decisions than learned from: not this history any more
        young = time.monotonic() - entry.built < self.retrain_seconds
        return young and entry.model is not None

    async def _history(self, uow: UnitOfWork, office_id: int) -> list[Example]:
        """The office's decisions to learn from; then the caller's transaction is released:
        training never holds one (with SQLite, the one write lock every upload needs)."""
        documents = await uow.filing.filed_for_office(office_id, HISTORY_LIMIT)
        history = [example_of(d) for d in documents if chosen(d) is not None]
        await uow.release_if_clean()
        return history

    async def for_office(self, uow: UnitOfWork, office_id: int) -> CategoryModel | None:
        decisions = await uow.filing.decisions(office_id)
        entry = self._entries.get(office_id)
        if self._current(entry, decisions):
            assert entry is not None
            return entry.model
        if (
            entry is not None
            and entry.model is not None
            and decisions[0] >= max(MIN_HISTORY, entry.decisions[0])
        ):
            # Stale, but this office's: the card shows it now, the new one follows. (With
            # fewer decisions than learned from, e.g. an organization no longer served, the
            # old model is not this history: that waits below.)
            if office_id not in self._retraining:
                history = await self._history(uow, office_id)
                if office_id not in self._retraining and self._entries.get(office_id) is entry:
                    task = asyncio.create_task(self._retrain(office_id, entry, history, decisions))
                    self._retraining[office_id] = task
                    task.add_done_callback(lambda t: self._forget_task(office_id, t))
            return entry.model
        if decisions[0] < MIN_HISTORY:
            self._entries[office_id] = _Entry(None, time.monotonic(), decisions)
            return None
        # Neither waiting for another request's training nor training holds a transaction
        # (with SQLite, the one write lock every upload and review needs).
        await uow.release_if_clean()
        training = self._retraining.get(office_id)
        if training is None:
            history = await self._history(uow, office_id)
            training = self._retraining.get(office_id)
            if training is None:
                if self._current(self._entries.get(office_id), decisions):
                    return self._entries[office_id].model  # trained while we read
                training = asyncio.create_task(self._train_first(office_id, history, decisions))
                self._retraining[office_id] = training
                training.add_done_callback(lambda t: self._forget_task(office_id, t))
        # A card that stops waiting (or is cancelled) leaves the training running.
        done, _ = await asyncio.wait({training}, timeout=self.first_wait_seconds)
        if not done:
            return None  # the keyword rules for now (see first_wait_seconds)
        entry = self._entries.get(office_id)
        return entry.model if entry is not None else None

    async def _train_first(
        self, office_id: int, history: list[Example], decisions: tuple[int, datetime | None]
    ) -> None:
        """The office's first model (or one for a history that shrank); holds no unit of
        work. Training is CPU work and needs scikit-learn: in a process of its own, so the
        bot keeps answering and stays small."""
        before = self._entries.get(office_id)
        try:
            model = await self.trainer(history)
        except Exception:
            # The cards go on with the keyword rules; the next card tries again.
            log.exception("training office %s's first category model failed", office_id)
            return
        if self._entries.get(office_id) is before:  # not forgotten nor replaced meanwhile
            self._entries[office_id] = _Entry(model, time.monotonic(), decisions)

    async def _retrain(
        self,
        office_id: int,
        old: _Entry,
        history: list[Example],
        decisions: tuple[int, datetime | None],
    ) -> None:
        """The office's model, retrained in the background; holds no unit of work."""
        try:
            model = await self.trainer(history)
        except Exception:
            log.exception(
                "retraining office %s's category model failed; the old one stays", office_id
            )
            model = None
        if self._entries.get(office_id) is not old:
            return  # forgotten or replaced meanwhile: this model is of another moment
        if model is None:
            # Failed (or nothing to learn): the old model stays, tried again after
            # `retrain_seconds` rather than on every card.
            self._entries[office_id] = _Entry(old.model, time.monotonic(), old.decisions)
        else:
            self._entries[office_id] = _Entry(model, time.monotonic(), decisions)

    def _forget_task(self, office_id: int, task: asyncio.Task[None]) -> None:
        if self._retraining.get(office_id) is task:
            del self._retraining[office_id]


MODELS = Models(first_wait_seconds=FIRST_MODEL_WAIT_SECONDS)


class Asked:
    """What the parts of one document's card (the category shown, why, whether it is ready)
    each ask: the category last chosen for its vendor and the suggestion, each read at most
    once. For one moment only: a document changed afterwards wants a new one."""

    def __init__(self, uow: UnitOfWork, document: Document, models: Models = MODELS) -> None:
        self.uow = uow
        self.document = document
        self.models = models
        self._remembered: tuple[str | None] | None = None
        self._suggestion: tuple[Suggestion | None] | None = None

    async def remembered(self) -> str | None:
        """The category last chosen for the document's vendor in its organization."""
        if self._remembered is None:
            vendor, org = vendor_key(self.document), self.document.organization_id
            found = None
            if vendor and org is not None:
                found = await self.uow.categories.for_vendor(org, vendor)
            self._remembered = (found,)
        return self._remembered[0]

    async def suggestion(self) -> Suggestion | None:
        if self._suggestion is None:
            self._suggestion = (await self._suggest(),)
        return self._suggestion[0]

    async def _suggest(self) -> Suggestion | None:
        document = self.document
        if document.organization_id is None:
            return None
        example = example_of(document)
        grants = await self.uow.organizations.offices_with_access(document.organization_id)
        offices = sorted(g.office_id for g in grants if g.revoked_at is None)
        if offices:
            # The organization's first office: its accountants are the ones deciding.
            model = await self.models.for_office(self.uow, offices[0])
            if model is not None:
                # An office with history: its own model or nothing (the keyword rules were
                # right 44% of the time where the model was unsure: bench/classify.py).
                return model.suggest(example, await self.remembered())
        return rule_suggestion(example)


async def suggest(
    uow: UnitOfWork, document: Document, models: Models = MODELS
) -> Suggestion | None:
    """The category for a document of an organization: its office's model when confident;
    the default chart's keyword rules while the office has too little history."""
    return await Asked(uow, document, models).suggestion()


async def for_card(
    uow: UnitOfWork, document: Document, shown: str | None, asked: Asked | None = None
) -> Suggestion | None:
    """Why the card suggests `shown`, when the model or the rules suggest the same."""
    if shown is None or chosen(document) is not None:
        return None
    found = await (asked or Asked(uow, document)).suggestion()
    return found if found is not None and found.category == shown else None
