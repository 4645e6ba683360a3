"""A perceptual hash of the first page, found and levelled, so that the same receipt
photographed again is recognised even when nothing on it could be read (core.duplicates)."""

from __future__ import annotations

import logging

from core.reading.pipeline import Context

log = logging.getLogger(__name__)


class Fingerprint:
    name = "fingerprint"

    def applies(self, ctx: Context) -> bool:
        return any(p.image is not None for p in ctx.pages)

    def run(self, ctx: Context) -> None:
        from core.duplicates import picture_hash

        image = next(p.image for p in ctx.pages if p.image is not None)
        try:
            ctx.picture_hash = picture_hash(image)
        except (OSError, ValueError) as error:  # a hash is a help, never a reason to fail
            log.warning("no picture hash: %s", error)

    def cleanup(self, ctx: Context) -> None:
        pass
