"""Test data made through the real services, so every object has what production gives it."""

import uuid

import factory

from apps.ledger.services import settlement_run, transaction_submit
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


def spend_submit(*, user: User, amount: str, merchant: str = "Dell", category: str = "equipment"):
    """A spend accepted through the real service, pending."""
    spend, _ = transaction_submit(
        user=user,
        idempotency_key=str(uuid.uuid4()),
        amount=amount,
        currency=user.organization.currency,
        merchant=merchant,
        category=category,
    )
    return spend


def spend_settled(*, user: User, amount: str, merchant: str = "Dell", category: str = "equipment"):
    """A spend accepted and settled (posted or rejected) through the real services.

    Settlement takes an advisory lock outside any transaction: the test needs `transaction=True`.
    """
    spend = spend_submit(user=user, amount=amount, merchant=merchant, category=category)
    settlement_run(organization_id=user.organization_id, transaction_id=spend.id)
    spend.refresh_from_db()
    return spend
