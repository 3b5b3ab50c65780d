"""Test data made through the real services, so every object has what production gives it."""

import factory

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
