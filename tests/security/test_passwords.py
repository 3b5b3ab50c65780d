"""Passwords are hashed with Argon2id at the measured cost; older hashes are upgraded at sign-in."""

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password

from apps.tenancy import services
from apps.tenancy.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = ["ledgerx.hashers.MeasuredArgon2Hasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def test_a_pbkdf2_hash_is_upgraded_to_argon2id_at_the_next_sign_in(tenant, settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    User.objects.filter(id=tenant.admin.id).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    services.token_issue(email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1")
    upgraded = User.objects.get(id=tenant.admin.id).password
    assert identify_hasher(upgraded).algorithm == "argon2"
    assert upgraded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
