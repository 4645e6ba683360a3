"""Callback data. Short (Telegram allows 64 bytes), no secrets, and never trusted:
every handler re-checks permissions against the database."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class BatchAction(CallbackData, prefix="b"):
    action: str  # "org" (choose organization), "inc" (mark income), "join" (join pages)
    batch: str
    org: int = 0


class LanguageChoice(CallbackData, prefix="lang"):
    language: str


class TeamAction(CallbackData, prefix="tm"):
    action: str  # "add" (invite a member with `role`) or "rm" (remove `person`)
    office: int
    person: int = 0
    role: str = ""


class NewOrgChoice(CallbackData, prefix="no"):
    field: str  # "type", "vat" or "mail" (skip the e-mail)
    value: str = ""


class OrgSwitch(CallbackData, prefix="org"):
    org: int


class InviteFlow(CallbackData, prefix="inv"):
    org: int
    level: str = ""
    reuse: int = -1  # -1: not chosen yet


class InviteRevoke(CallbackData, prefix="ir"):
    invite: int


class AccessRevoke(CallbackData, prefix="ar"):
    org: int
    office: int


class ReviewOrg(CallbackData, prefix="rvo"):
    org: int = 0  # 0: the report itself, at `page`
    page: int = 0


class ReviewAction(StrEnum):
    """A press on the accountant's card; each has its own handler (`handlers.review`).

    The values are short: they travel in the 64 bytes of callback data.
    """

    APPROVE = "ok"
    EDIT_MENU = "ed"
    EDIT_FIELD = "f"  # field `x`: the accountant types its value next
    CATEGORY_MENU = "ct"
    CATEGORY = "c"  # category `x`
    DIRECTION = "dr"  # direction `x`: income or expense
    RETURN_MENU = "rt"
    RETURN_REASON = "r"  # reason `x`: the accountant may type a note next
    RETURN_NO_NOTE = "nn"  # return for reason `x` without a note
    MENU = "mn"  # back from a submenu to the card's own buttons
    SKIP = "sk"
    BACK = "bk"  # back to the to-file report


class ReviewAct(CallbackData, prefix="rva"):
    a: ReviewAction
    d: int  # the document
    v: int  # its version on the card: a stale card loses
    x: str = ""


class ClientAct(CallbackData, prefix="rc"):
    a: str  # "new" (send a new photo), "exp" (explain), "wd" (withdraw)
    d: int


class CategoryAct(CallbackData, prefix="cg"):
    # "" show the office's chart, "pk" pick category `c` to type its share,
    # "rs" reset category `c` to the default share
    office: int
    a: str = ""
    c: str = ""


class BooksAct(CallbackData, prefix="bk"):
    # m: "v" the VAT picture (/vat) or "x" straight to the formats (/export).
    # a: "o" organization `o` chosen, "p" period `p` chosen, "f" export in format `f`,
    # "c" close, "r" reopen (asks the reason), "k" switch single/double-entry,
    # "m" move the waiting documents of a closed period to the next open one,
    # "l" move the late document `o` (its card's button) to the next open period
    m: str
    a: str
    o: int = 0
    p: str = ""
    f: str = ""


class DuplicateAct(CallbackData, prefix="dp"):
    # On a likely duplicate's card: "see" the earlier document, "ok" approve anyway,
    # "keep" both (not a duplicate), "ret" return to the client as a duplicate.
    a: str
    d: int
    v: int


class ReadyAct(CallbackData, prefix="rd"):
    # "ask" approve all ready documents of organization `o` (asks first), "yes" do it,
    # "no" cancel; "auto" set auto-filing of `o` to `on`; "undo" an auto-filed document `d`
    a: str
    o: int = 0
    d: int = 0
    on: int = 0


class ExpectedAct(CallbackData, prefix="ex"):
    # The client's "there is none this month" for the vendor whose key hashes to `v`,
    # in organization `o`, for period `p` ("2026-10").
    o: int
    v: str
    p: str
    r: int = 0  # 1: tapped on a reminder, which keeps its text and loses only the button
