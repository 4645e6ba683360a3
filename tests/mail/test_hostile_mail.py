"""Hostile mail stays bounded: parsing alone, no database (fast)."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.policy import SMTP

from bot.mail.auth import AuthResultsAuthenticator
from core import mail_parts
from core.mail import AuthVerdict, local_part_of, new_local_part, slug
from tests import images
from tests.mail.world import zip_of


def test_huge_headers_are_refused_whole() -> None:
    raw = b"From: a@b.test\r\n" + b"X-Junk: " + b"a" * (400 * 1024) + b"\r\n\r\nbody"
    parsed = mail_parts.parse_mail(raw)
    assert parsed.problem == "mail.headers_too_big" and parsed.parts == []


def test_thousands_of_attachments_are_cut_off_with_a_reason() -> None:
    picture = base64.encodebytes(images.png(300, 300, "p"))
    part = (
        b"--B\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="r.png"\r\n\r\n' + picture + b"\r\n"
    )
    raw = (
        b"From: a@b.test\r\nSubject: many\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + part * 5000 + b"--B--\r\n"
    )
    # Bounded work: only the first MAX_MIME_PARTS parts are parsed at all.
    assert mail_parts._bounded(raw)[1] == 5001 - mail_parts.MAX_MIME_PARTS
    parsed = mail_parts.parse_mail(raw)
    kept = [p for p in parsed.parts if p.refused is None]
    assert len(kept) == mail_parts.MAX_DOCUMENTS
    assert parsed.parts[-1].refused == "mail.too_many_attachments"


def test_bad_names_are_cleaned() -> None:
    assert mail_parts.clean_name("../../etc/passwd") == "passwd"
    assert mail_parts.clean_name("C:\\Users\\x\\inv.pdf") == "inv.pdf"
    assert mail_parts.clean_name("inv\u202efdp.exe") == "invfdp.exe"
    assert mail_parts.clean_name("a\x00b\r\n.pdf") == "ab.pdf"
    assert mail_parts.clean_name("...") is None
    long = mail_parts.clean_name("א" * 500 + ".pdf")
    assert long is not None and len(long) <= mail_parts.MAX_NAME and long.endswith(".pdf")


def test_hebrew_names_in_rfc_2231_and_2047_are_read() -> None:
    msg = EmailMessage()
    msg["From"] = "=?utf-8?b?15PXoNeU?= <dana@falafel.test>"
    msg["Subject"] = "חשבונית מס 77"
    msg.set_content("x")
    msg.add_attachment(
        images.pdf(), maintype="application", subtype="pdf", filename="חשבונית מס 77.pdf"
    )
    raw = msg.as_bytes(policy=SMTP)
    assert "חשבונית".encode() not in raw  # encoded on the wire
    parsed = mail_parts.parse_mail(raw)
    assert parsed.subject == "חשבונית מס 77" and parsed.sender == "dana@falafel.test"
    assert [p.name for p in parsed.parts] == ["חשבונית מס 77.pdf"]


def test_signatures_logos_and_pixels_are_not_documents() -> None:
    msg = EmailMessage()
    msg["From"] = "a@b.test"
    msg.set_content("Thanks, Dana")
    msg.add_alternative('<p>Thanks</p><img src="cid:sig">', subtype="html")
    msg.get_payload()[1].add_related(
        images.png(600, 150, "sig"), maintype="image", subtype="png", cid="<sig>"
    )
    msg.add_attachment(images.png(1, 1, ""), maintype="image", subtype="png", filename="pixel.png")
    msg.add_attachment(
        images.png(64, 64, ""), maintype="image", subtype="png", filename="icon.png"
    )
    msg.add_attachment(
        images.jpeg(900, 1200, "r"), maintype="image", subtype="jpeg", filename="receipt.jpg"
    )
    parsed = mail_parts.parse_mail(msg.as_bytes(policy=SMTP))
    assert [p.name for p in parsed.parts] == ["receipt.jpg"]


def test_zip_with_too_many_members_is_refused() -> None:
    archive = zip_of({f"{i}.txt": b"x" for i in range(mail_parts.ZIP_MAX_MEMBERS + 1)})
    walk = mail_parts._Walk()
    mail_parts._open_zip("many.zip", archive, walk, 0)
    assert [p.refused for p in walk.parts] == ["mail.zip_too_many"]


def test_addresses_are_readable_and_unguessable() -> None:
    assert slug("Falafel Ltd.") == "falafel-ltd" and slug('פלאפל בע"מ') == "org"
    made = {new_local_part("Falafel Ltd") for _ in range(200)}
    assert len(made) == 200 and all(len(x.rsplit("-", 1)[1]) == 8 for x in made)
    assert local_part_of("Falafel-LTD-ab3k9x2q@Docs.Cohen.test", "docs.cohen.test") == (
        "falafel-ltd-ab3k9x2q"
    )
    assert local_part_of("office+falafel-ltd-ab3k9x2q@docs.cohen.test", "docs.cohen.test") == (
        "falafel-ltd-ab3k9x2q"
    )
    assert local_part_of("x@elsewhere.test", "docs.cohen.test") is None


def test_authentication_results_are_trusted_only_from_the_configured_server() -> None:
    check = AuthResultsAuthenticator("mx.cohen.test")

    def raw(*headers: str) -> bytes:
        return ("\r\n".join([*headers, "From: dana@falafel.test", "", "x"])).encode()

    ours_pass = "Authentication-Results: mx.cohen.test; dkim=pass header.d=falafel.test"
    forged = "Authentication-Results: evil.test; dkim=pass header.d=falafel.test"
    ours_fail = "Authentication-Results: mx.cohen.test; dkim=fail header.d=falafel.test"
    other_domain = "Authentication-Results: mx.cohen.test; dkim=pass header.d=evil.test"
    assert check(raw(ours_pass), "dana@falafel.test") is AuthVerdict.PASS
    assert check(raw(forged), "dana@falafel.test") is AuthVerdict.NONE
    # The topmost header of our server decides; a forged pass below it changes nothing.
    assert check(raw(ours_fail, ours_pass), "dana@falafel.test") is AuthVerdict.FAIL
    assert check(raw(other_domain), "dana@falafel.test") is AuthVerdict.FAIL


def test_drawing_receipts_leaves_truncated_pictures_refused() -> None:
    import pytest

    import bot.mail.render  # noqa: F401 - weasyprint's import changes Pillow globally
    from core.errors import FileRejected
    from core.files import check_file

    with pytest.raises(FileRejected):
        check_file(images.truncated_jpeg())


class _NoOcr:
    """Fails the test if any page had to be OCR'd: the fields must come from the text."""

    def image_to_text(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("an HTML receipt must be read from its text, not by OCR")

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"OCR engine used: {name}")


def test_an_html_receipts_fields_are_read_from_its_own_text() -> None:
    from datetime import date

    from bot.mail.render import render_html
    from core.reading.reader import read_document

    html = (
        "<html><body><h2>ACME Office Supplies</h2><p>Tax Invoice No. 4711</p>"
        "<p>Date: 05/03/2026</p><p>Subtotal 100.00</p><p>VAT 18% 18.00</p>"
        "<p><b>TOTAL 118.00</b></p></body></html>"
    )
    reading = read_document(
        render_html(html, {}), "application/pdf", engine=_NoOcr(), today=date(2026, 3, 10)
    )
    assert str(reading.value("total")) == "118.00"
    assert str(reading.value("vat")) == "18.00"
