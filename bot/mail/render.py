"""An HTML receipt drawn as a PDF, fetching nothing from anywhere.

An e-mail's HTML is hostile input: `file:` would read our disk, `http:` reach inside the
network or tell the sender the mail was opened. Only the message's own `cid:` pictures
are served; every other URL is refused before any connection is tried.
"""

from __future__ import annotations

import logging
from typing import Any

from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from core.files import sniff

# Importing weasyprint switches Pillow, process-wide, to accepting truncated pictures; the
# intake's check that a picture is whole (core.files) depends on Pillow refusing them.
ImageFile.LOAD_TRUNCATED_IMAGES = False

log = logging.getLogger(__name__)
# Stops the page from reaching for a base URL's directory.
_BASE = "cid:/"


class MessageOnlyFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no types
    """Serves `cid:` parts of the message; refuses everything else."""

    def __init__(self, images: dict[str, bytes]) -> None:
        super().__init__(allowed_protocols=["cid"], timeout=1)
        self.images = {cid.strip("<>").lower(): data for cid, data in images.items()}
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.lower().startswith("cid:"):
            key = url[4:].strip("/").strip("<>").lower()
            data = self.images.get(key)
            if data is not None:
                mime = sniff(data) or "application/octet-stream"
                return URLFetcherResponse(url, data, {"Content-Type": mime})
        self.refused.append(url[:200])
        raise ValueError("fetching is not allowed while drawing an e-mail")


def render_html(html: str, images: dict[str, bytes]) -> bytes:
    fetcher = MessageOnlyFetcher(images)
    pdf = HTML(string=html, base_url=_BASE, url_fetcher=fetcher).write_pdf()
    if fetcher.refused:
        log.info("refused %d remote resources while drawing a receipt", len(fetcher.refused))
    assert isinstance(pdf, bytes)
    return pdf
