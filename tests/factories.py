"""Test data made through the real services, so every object has what production gives it."""

import factory
from django.http import HttpRequest
from django.test import Client
from django_otp import login as otp_login
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.tenancy import mfa, mfa_services
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Department, Organization, Role, User

PASSWORD = "correct-horse-battery"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    currency = "USD"
    timezone = "UTC"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return tenancy_services.organization_create(
            name=kwargs["name"], currency=kwargs["currency"], timezone_name=kwargs["timezone"]
        )


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Department {n}")
    monthly_limit_minor = 1_000_000
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        parent = kwargs["parent"]
        return tenancy_services.department_create(
            actor=None,
            organization=kwargs["organization"],
            name=kwargs["name"],
            monthly_limit_minor=kwargs["monthly_limit_minor"],
            parent_id=parent.id if parent else None,
        )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    role = Role.EMPLOYEE
    organization = factory.LazyAttribute(lambda o: o.department.organization if o.department else None)
    department = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return User.objects.create_user(
            kwargs.pop("email"), PASSWORD, is_superuser=kwargs["role"] == Role.SYSTEM_ADMIN, **kwargs
        )


def totp_device_for(user: User):
    """A confirmed authenticator app of `user`, set up the way the enrollment page does: a pending device,
    confirmed with the code it shows now (django-otp's own TOTP of its key)."""
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is not None:
        return confirmed
    device = mfa_services.totp_device_pending(user=user)
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"
    return mfa_services.totp_confirm(user=user, device_id=device.id, code=code)


def recovery_code_for(user: User) -> str:
    """A fresh recovery code of `user` (enrolling an authenticator app first if they have no second factor):
    a sign-in that proves a second factor more than once in a TOTP time step uses one of these."""
    totp_device_for(user)
    device, _ = StaticDevice.objects.get_or_create(user=user, name=mfa.RECOVERY_DEVICE_NAME)
    return device.token_set.create(token=StaticToken.random_token()).token


def login_verified(client, user: User) -> None:
    """Sign `client` in as `user` with a session that proved a second factor, through django-otp's own
    login (as the verification page does after a right code), so the production rule stays on."""
    client.force_login(user)
    request = HttpRequest()
    request.session = client.session
    request.user = user
    otp_login(request, totp_device_for(user))
    request.session.save()


def otp_fields(user: User) -> dict:
    """What a token request adds for `user`: a fresh recovery code where their role must have a second factor."""
    return {"otp_code": recovery_code_for(user)} if mfa.mfa_required(user) else {}


def signed_in_client(user: User) -> Client:
    """A test client signed in as `user`, its second factor proved (login_verified)."""
    client = Client()
    login_verified(client, user)
    return client
