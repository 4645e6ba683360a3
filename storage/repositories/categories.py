"""Expense categories (issue 4): an office's VAT shares and the per-vendor memory."""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import bindparam, delete, insert, select, update

from storage import tables
from storage.repositories.base import Repository

_oc = tables.office_categories.c
_vc = tables.vendor_categories.c
# Asked by every card and every category chosen: built once.
_VENDOR_CATEGORY = select(_vc.category).where(
    _vc.organization_id == bindparam("organization_id"), _vc.vendor_key == bindparam("vendor_key")
)


class CategoryRepository(Repository):
    async def office_shares(self, office_id: int) -> dict[str, Fraction]:
        rows = await self.session.execute(
            select(_oc.key, _oc.vat_share).where(_oc.office_id == office_id)
        )
        return {key: Fraction(share) for key, share in rows}

    async def set_office_share(self, office_id: int, key: str, share: Fraction) -> None:
        done = await self.session.execute(
            update(tables.office_categories)
            .where(_oc.office_id == office_id, _oc.key == key)
            .values(vat_share=str(share))
        )
        if not getattr(done, "rowcount", 0):
            await self.session.execute(
                insert(tables.office_categories).values(
                    office_id=office_id, key=key, vat_share=str(share)
                )
            )

    async def clear_office_share(self, office_id: int, key: str) -> None:
        await self.session.execute(
            delete(tables.office_categories).where(_oc.office_id == office_id, _oc.key == key)
        )

    async def for_vendor(self, organization_id: int, vendor_key: str) -> str | None:
        return await self.session.scalar(
            _VENDOR_CATEGORY, {"organization_id": organization_id, "vendor_key": vendor_key}
        )

    async def remember_vendor(
        self, organization_id: int, vendor_key: str, category: str, person_id: int
    ) -> None:
        done = await self.session.execute(
            update(tables.vendor_categories)
            .where(_vc.organization_id == organization_id, _vc.vendor_key == vendor_key)
            .values(category=category, chosen_by=person_id)
        )
        if not getattr(done, "rowcount", 0):
            await self.session.execute(
                insert(tables.vendor_categories).values(
                    organization_id=organization_id,
                    vendor_key=vendor_key,
                    category=category,
                    chosen_by=person_id,
                )
            )
