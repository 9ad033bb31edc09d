"""NTLMv2 acceptor for the lab's SQL Server (Windows logins), on pyspnego's NTLM message and crypto code.

SQL Server receives the NTLM NEGOTIATE in LOGIN7's SSPI field, answers with an SSPI token holding the
CHALLENGE, and gets the AUTHENTICATE in the next client packet ([MS-TDS] 2.2.6.4, 2.2.7.22; [MS-NLMP]).
The account is checked against the SQL host's Windows accounts (``host_state["accounts"]``): the NT
proof of the response must be HMAC-MD5(NTOWFv2, server challenge + client blob) ([MS-NLMP] 3.3.2).
pyspnego's own acceptor would need NTLM_USER_FILE set for the whole lab process, so the lab does the
verification here and uses pyspnego only to build and parse the messages.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from spnego._ntlm_raw.crypto import hmac_md5, ntowfv1, ntowfv2
from spnego._ntlm_raw.messages import (
    AvId,
    Authenticate,
    Challenge,
    FileTime,
    Negotiate,
    NegotiateFlags,
    TargetInfo,
)


@dataclass
class NtlmExchange:
    computer: str
    server_challenge: bytes = b""

    def challenge(self, negotiate_token: bytes) -> bytes:
        negotiate = Negotiate.unpack(negotiate_token)
        flags = (
            negotiate.flags
            | NegotiateFlags.request_target
            | NegotiateFlags.ntlm
            | NegotiateFlags.always_sign
            | NegotiateFlags.target_info
            | NegotiateFlags.target_type_server
        )
        if flags & NegotiateFlags.unicode:
            flags &= ~NegotiateFlags.oem
        if flags & NegotiateFlags.extended_session_security:
            flags &= ~NegotiateFlags.lm_key
        flags &= ~NegotiateFlags.version
        self.server_challenge = os.urandom(8)
        info = TargetInfo()
        info[AvId.nb_computer_name] = self.computer.upper()
        info[AvId.nb_domain_name] = self.computer.upper()
        info[AvId.dns_computer_name] = self.computer.lower()
        info[AvId.timestamp] = FileTime.now()
        return Challenge(flags, self.server_challenge, target_name=self.computer.upper(), target_info=info).pack()

    def authenticate(self, token: bytes, accounts: dict) -> str | None:
        """The account name when the AUTHENTICATE proves its password, else None."""
        try:
            auth = Authenticate.unpack(token)
        except Exception:
            return None
        user = auth.user_name or ""
        resp = auth.nt_challenge_response or b""
        if len(resp) <= 24:
            return None  # NTLMv1 / anonymous: refused, as Windows does by default (LmCompatibilityLevel 3+)
        for name, acct in accounts.items():
            if name.lower() != user.lower() or not acct.get("enabled", True):
                continue
            key = ntowfv2(user, ntowfv1(acct.get("password", "")), auth.domain_name)
            proof = hmac_md5(key, self.server_challenge + resp[16:])
            if hmac.compare_digest(proof, resp[:16]):
                return name
        return None
