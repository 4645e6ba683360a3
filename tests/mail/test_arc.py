"""A forwarder that changes a message on the way breaks its sender's DKIM signature; its ARC
seal (RFC 8617) proves the sender again, if the office trusts that forwarder. Real dkimpy
signatures and seals; the DNS answers are injected."""

from __future__ import annotations

import dkim

from bot.mail.auth import DkimAuthenticator
from core.mail import AuthVerdict
from tests.mail.world import CLIENT_DOMAIN, KEY, PUBLIC, message, signed

FORWARDER = "lists.forward.test"
SENDER = f"dana@{CLIENT_DOMAIN}"


def dns(name: bytes, timeout: int = 5) -> bytes | None:
    if name in (
        f"sel._domainkey.{CLIENT_DOMAIN}.".encode(),
        f"sel._domainkey.{FORWARDER}.".encode(),
    ):
        return b"v=DKIM1; k=rsa; p=" + PUBLIC
    return None


def forwarded(*, sender_passed: bool, sealer: str = FORWARDER) -> bytes:
    """Dana's signed mail as the forwarder passes it on: what it found at its door, a
    footer added to the body (her signature no longer holds), and its ARC seal."""
    raw = signed(message(sender=SENDER, to="x@docs.cohen.test", subject="Invoice 7"))
    found = f"dkim={'pass' if sender_passed else 'fail'} header.d={CLIENT_DOMAIN}"
    raw = f"Authentication-Results: {sealer}; {found}\r\n".encode() + raw
    raw = raw.rstrip(b"\r\n") + b"\r\n-- \r\nSent through the forwarder\r\n"
    seal = dkim.arc_sign(raw, b"sel", sealer.encode(), KEY, sealer.encode())
    return b"".join(seal) + raw


def test_a_trusted_forwarders_arc_seal_proves_the_sender_its_footer_broke() -> None:
    raw = forwarded(sender_passed=True)
    assert DkimAuthenticator(dnsfunc=dns)(raw, SENDER) is AuthVerdict.FAIL  # DKIM alone
    trusting = DkimAuthenticator(dnsfunc=dns, arc_forwarders=[FORWARDER])
    assert trusting(raw, SENDER) is AuthVerdict.PASS
    # Not for another From, not when the forwarder saw a failure, not from anyone else.
    assert trusting(raw, "eve@elsewhere.test") is not AuthVerdict.PASS
    assert trusting(forwarded(sender_passed=False), SENDER) is AuthVerdict.FAIL
    other = DkimAuthenticator(dnsfunc=dns, arc_forwarders=["someone.else.test"])
    assert other(raw, SENDER) is AuthVerdict.FAIL
    # A seal that no longer matches the message (changed after sealing) proves nothing.
    tampered = raw.replace(b"Sent through the forwarder", b"Sent through the forwarded")
    assert trusting(tampered, SENDER) is AuthVerdict.FAIL
