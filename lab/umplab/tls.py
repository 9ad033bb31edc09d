"""The lab's local certificate authority (trustme): every TLS endpoint uses a certificate it issued.

Clients are given ``ca.pem`` (never verification turned off). The server certificate names 127.0.0.1,
localhost and every lab FQDN so host-name checks pass as they would in production.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme


class LabTLS:
    def __init__(self, state_dir: Path, names: list[str]):
        self.ca = trustme.CA(organization_name="UMP lab CA")
        self.cert = self.ca.issue_cert("127.0.0.1", "localhost", *names)
        self.ca_file = state_dir / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        # a wrong CA, for tests that prove the clients refuse an untrusted server
        other = trustme.CA(organization_name="Not the lab CA")
        self.wrong_ca_file = state_dir / "wrong-ca.pem"
        other.cert_pem.write_to_path(str(self.wrong_ca_file))

    def server_context(self, max_tls12: bool = False) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(ctx)
        if max_tls12:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        return ctx
