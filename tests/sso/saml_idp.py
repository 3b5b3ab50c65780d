"""A real SAML identity provider for the tests: pysaml2's own IdP (saml2.server.Server) with a key and
certificate made for the test, signing its assertions through Debian's xmlsec1, as Okta or Entra would."""

import base64
import datetime
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import saml2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2.authn_context import PASSWORD
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server

XMLSEC = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"


def key_and_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


class SamlIdentityProvider:
    def __init__(self, directory: Path, entity_id: str) -> None:
        self.entity_id = entity_id
        self.sso_url = f"{entity_id.rstrip('/')}/sso/redirect"
        self.key_path, self.cert_path = key_and_certificate(directory, entity_id.split("//")[1].strip("/"))
        self.server: Server | None = None

    def _config(self, sp_metadata: str | None) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": XMLSEC,
                "key_file": str(self.key_path),
                "cert_file": str(self.cert_path),
                "service": {
                    "idp": {
                        "endpoints": {"single_sign_on_service": [(self.sso_url, saml2.BINDING_HTTP_REDIRECT)]},
                        "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                        "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                    }
                },
                "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
            }
        )
        return config

    def metadata(self) -> str:
        return create_metadata_string(None, config=self._config(None)).decode()

    def trust(self, sp_metadata: str) -> None:
        """Know the service provider, from the metadata LedgerX serves for it."""
        self.server = Server(config=self._config(sp_metadata))

    def read_request(self, location: str) -> tuple[str, str]:
        """The AuthnRequest's id and the RelayState from the redirect LedgerX sent the browser to."""
        query = parse_qs(urlsplit(location).query)
        request = self.server.parse_authn_request(query["SAMLRequest"][0], saml2.BINDING_HTTP_REDIRECT)
        return request.message.id, query["RelayState"][0]

    def response(
        self,
        *,
        in_response_to: str,
        acs_url: str,
        audience: str,
        email: str,
        groups: tuple[str, ...] = (),
        signed: bool = True,
    ) -> str:
        """A POST-binding SAMLResponse, base64, as the browser carries it to the assertion consumer."""
        response = self.server.create_authn_response(
            identity={"mail": [email], "groups": list(groups)},
            in_response_to=in_response_to,
            destination=acs_url,
            sp_entity_id=audience,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
            authn={"class_ref": PASSWORD},
            sign_assertion=signed,
            sign_response=False,
        )
        return base64.b64encode(str(response).encode()).decode()
