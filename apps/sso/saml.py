"""SAML 2.0 through djangosaml2 on pysaml2: each organization's service provider is built from its
SsoConfiguration row (SAML_CONFIG_LOADER), and pysaml2, with Debian's xmlsec1, checks every response:
its signature against the organization's IdP certificate, its audience, its lifetime, and that it
answers a request this browser made."""

from xml.sax.saxutils import escape, quoteattr

import saml2
from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import reverse
from saml2.config import SPConfig
from saml2.mdstore import InMemoryMetaData
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

from . import selectors
from .models import SsoConfiguration

_METADATA_TEMPLATE = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID={entity_id}>
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"
      WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="{binding}" Location={sso_url}/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


def metadata_from_fields(*, entity_id: str, sso_url: str, certificate_pem: str) -> str:
    """IdP metadata for a provider configured by hand: its entity id, its HTTP-Redirect single sign-on
    URL and its signing certificate (PEM, or the base64 body alone)."""
    body = "".join(
        line.strip() for line in certificate_pem.strip().splitlines() if line.strip() and "CERTIFICATE" not in line
    )
    return _METADATA_TEMPLATE.format(
        entity_id=quoteattr(entity_id),
        certificate=escape(body),
        binding=saml2.BINDING_HTTP_REDIRECT,
        sso_url=quoteattr(sso_url),
    )


def idp_entity_ids(metadata_xml: str) -> list[str]:
    """The identity providers the metadata describes; raises ValueError when it is not SAML metadata."""
    metadata = InMemoryMetaData(None, metadata_xml)
    try:
        metadata.parse(metadata_xml)
    except Exception as error:  # noqa: BLE001 - pysaml2 raises many kinds for malformed XML
        raise ValueError(f"Not SAML metadata: {error}") from None
    return sorted(entity_id for entity_id, entity in metadata.items() if "idpsso_descriptor" in entity)


def sp_entity_id(request: HttpRequest, configuration: SsoConfiguration) -> str:
    return request.build_absolute_uri(reverse("sso-saml-metadata", args=[configuration.organization.slug]))


def sp_config(request: HttpRequest, configuration: SsoConfiguration) -> SPConfig:
    slug = configuration.organization.slug
    acs_url = request.build_absolute_uri(reverse("sso-saml-acs", args=[slug]))
    config = SPConfig()
    config.load(
        {
            "entityid": sp_entity_id(request, configuration),
            "xmlsec_binary": settings.SSO_XMLSEC_BINARY,
            "allow_unknown_attributes": True,
            # Clocks of the IdP and ours may differ by this much (seconds).
            "accepted_time_diff": 60,
            "service": {
                "sp": {
                    "name": f"LedgerX ({configuration.organization.name})",
                    "endpoints": {"assertion_consumer_service": [(acs_url, saml2.BINDING_HTTP_POST)]},
                    "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
                    # Only answers to a request this browser made; every assertion signed by the IdP.
                    "allow_unsolicited": False,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "authn_requests_signed": False,
                    "only_use_keys_in_metadata": True,
                },
            },
            "metadata": {"inline": [configuration.saml_metadata_xml]},
        }
    )
    return config


def sp_config_for_request(request: HttpRequest) -> SPConfig:
    """SAML_CONFIG_LOADER: the organization is the one in the URL, and must have SAML sign-on on."""
    slug = request.resolver_match.kwargs.get("slug") if request.resolver_match else None
    configuration = selectors.configuration_for_slug(slug or "", protocol=SsoConfiguration.Protocol.SAML)
    if configuration is None:
        raise Http404("No SAML sign-on for this organization.")
    return sp_config(request, configuration)
