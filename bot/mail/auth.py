"""Is a mail really from its From address's domain? DKIM ourselves, or a trusted provider's
Authentication-Results.

Clients forward supplier mails, so what is checked is the forwarder (the client), not the
supplier: a DKIM signature of the From domain, or of a parent domain (relaxed alignment).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from email import message_from_bytes, policy

import authres
import dkim

from core.mail import AuthVerdict

log = logging.getLogger(__name__)
DnsFunc = Callable[..., bytes | None]


def _aligned(signing_domain: str, sender: str) -> bool:
    domain = sender.rpartition("@")[2].lower().rstrip(".")
    signing = signing_domain.lower().rstrip(".")
    return domain == signing or domain.endswith("." + signing)


class DkimAuthenticator:
    """For Tayuk's own SMTP receiver: verify the DKIM signatures of the From domain.

    A forwarder that changes the message on the way (a footer, a subject tag) breaks the
    sender's signature; if it seals the message with ARC (RFC 8617), and the office named
    it among `arc_forwarders`, what it recorded at its door counts: a valid ARC chain whose
    last seal is that forwarder's, with its ARC-Authentication-Results saying the From
    domain's DKIM (or DMARC) passed."""

    def __init__(self, dnsfunc: DnsFunc | None = None, arc_forwarders: Iterable[str] = ()) -> None:
        self.dnsfunc = dnsfunc
        self.arc_forwarders = {d.strip().lower().rstrip(".") for d in arc_forwarders if d.strip()}

    def __call__(self, raw: bytes, sender: str) -> AuthVerdict:
        verdict = self._dkim(raw, sender)
        if verdict is not AuthVerdict.PASS and self.arc_forwarders and self._arc(raw, sender):
            return AuthVerdict.PASS
        return verdict

    def _dkim(self, raw: bytes, sender: str) -> AuthVerdict:
        message = message_from_bytes(raw, policy=policy.compat32)
        signatures = message.get_all("DKIM-Signature") or []
        seen_aligned = False
        for index, value in enumerate(signatures):
            tags = dict(
                part.strip().split("=", 1) for part in str(value).split(";") if "=" in part
            )
            signing = "".join(tags.get("d", "").split())
            if not _aligned(signing, sender):
                continue
            seen_aligned = True
            kwargs = {"dnsfunc": self.dnsfunc} if self.dnsfunc is not None else {}
            try:
                verifier = dkim.DKIM(raw)
                if verifier.verify(idx=index, **kwargs):
                    return AuthVerdict.PASS
            except Exception as error:
                log.info("DKIM check failed: %s", type(error).__name__)
        return AuthVerdict.FAIL if seen_aligned else AuthVerdict.NONE

    def _arc(self, raw: bytes, sender: str) -> bool:
        kwargs = {"dnsfunc": self.dnsfunc} if self.dnsfunc is not None else {}
        try:
            chain, results, _ = dkim.arc_verify(raw, **kwargs)
        except Exception as error:
            log.info("ARC check failed: %s", type(error).__name__)
            return False
        if chain != dkim.CV_Pass or not results:
            return False
        # Only the last seal is the hop that handed us the message: an earlier trusted
        # forwarder says nothing of what an untrusted later one changed.
        last = max(results, key=lambda r: int(r["instance"]))
        sealer = last["as-domain"].decode("ascii", "replace").lower().rstrip(".")
        if sealer not in self.arc_forwarders:
            return False
        value = re.sub(r"^\s*i\s*=\s*\d+\s*;", "", last["aar-value"].decode("utf-8", "replace"))
        try:
            header = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
        except Exception:
            return False
        return _vouches(header, sender)


class AuthResultsAuthenticator:
    """Behind a provider: trust only the topmost Authentication-Results of its server."""

    def __init__(self, authserv_id: str) -> None:
        self.authserv_id = authserv_id.lower()

    def __call__(self, raw: bytes, sender: str) -> AuthVerdict:
        message = message_from_bytes(raw, policy=policy.compat32)
        for value in message.get_all("Authentication-Results") or []:
            try:
                header = authres.AuthenticationResultsHeader.parse_value(
                    " ".join(str(value).split())
                )
            except Exception:
                continue
            if str(header.authserv_id).lower() != self.authserv_id:
                # A header anyone could have written further down the path.
                continue
            return AuthVerdict.PASS if _vouches(header, sender) else AuthVerdict.FAIL
        return AuthVerdict.NONE


def _vouches(header: authres.AuthenticationResultsHeader, sender: str) -> bool:
    """The results say the From domain's DKIM signature or DMARC passed."""
    for result in header.results:
        if str(result.method).lower() == "dkim" and str(result.result) == "pass":
            domain = _property(result, "header", "d") or _property(result, "header", "i")
            if domain and _aligned(domain.lstrip("@").rpartition("@")[2], sender):
                return True
        if str(result.method).lower() == "dmarc" and str(result.result) == "pass":
            domain = _property(result, "header", "from")
            if domain and _aligned(domain, sender):
                return True
    return False


def _property(result: object, type_: str, name: str) -> str | None:
    for prop in getattr(result, "properties", []):
        if str(prop.type) == type_ and str(prop.name) == name:
            return str(prop.value)
    return None


def skip_check(raw: bytes, sender: str) -> AuthVerdict:
    return AuthVerdict.SKIPPED
