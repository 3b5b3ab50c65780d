from django.urls import path

from . import oidc, views

urlpatterns = [
    path("", views.sso_start, name="sso-start"),
    path("saml/<slug:slug>/login/", views.SamlLogin.as_view(), name="sso-saml-login"),
    path("saml/<slug:slug>/acs/", views.SamlAssertionConsumer.as_view(), name="sso-saml-acs"),
    path("saml/<slug:slug>/metadata/", views.SamlMetadata.as_view(), name="sso-saml-metadata"),
    path("oidc/<slug:slug>/login/", oidc.OidcLogin.as_view(), name="sso-oidc-login"),
    path("oidc/callback/", oidc.oidc_callback, name="sso-oidc-callback"),
]
