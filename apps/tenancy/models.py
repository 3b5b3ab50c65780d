import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone
from django.utils.crypto import salted_hmac

from .scoping import TenantQuerySet


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    currency = models.CharField(max_length=3)
    timezone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="departments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=120)
    monthly_limit_minor = models.BigIntegerField()
    head = models.ForeignKey(
        "tenancy.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="headed_departments"
    )
    created_at = models.DateTimeField(default=django_timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "parent", "name"],
                name="department_unique_name_among_siblings",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=Q(monthly_limit_minor__gte=0), name="department_limit_not_negative"),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="department_not_own_parent"),
            # The target of the ledger's (organization, department) foreign key.
            models.UniqueConstraint(fields=["organization", "id"], name="department_unique_in_organization"),
        ]
        permissions = [("view_department_spend", "Can see the spend of this department")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    EMPLOYEE = "employee", "Employee"
    FINANCE_MANAGER = "finance_manager", "Finance manager"
    ORG_ADMIN = "org_admin", "Org admin"
    SYSTEM_ADMIN = "system_admin", "System admin"


class UserManager(BaseUserManager.from_queryset(TenantQuerySet)):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("role", Role.SYSTEM_ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.EMPLOYEE)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=django_timezone.now)
    # Raised by "sign out everywhere": every session signed before it stops matching (get_session_auth_hash).
    session_generation = models.PositiveIntegerField(default=0)
    # Set by a fraud verdict (services.user_freeze): none of the user's spends is accepted or settled. They
    # still sign in and read, so a frozen employee can see why.
    frozen_at = models.DateTimeField(null=True, blank=True)
    frozen_reason = models.TextField(blank=True, default="")
    frozen_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role=Role.SYSTEM_ADMIN) | Q(organization__isnull=False),
                name="user_in_organization_unless_system_admin",
            ),
            # The target of the ledger's (organization, employee) foreign key.
            models.UniqueConstraint(fields=["organization", "id"], name="user_unique_in_organization"),
            models.CheckConstraint(
                condition=Q(frozen_at__isnull=True, frozen_reason="", frozen_by__isnull=True)
                | (Q(frozen_at__isnull=False) & ~Q(frozen_reason="")),
                name="user_frozen_with_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def _get_session_auth_hash(self, secret=None) -> str:
        # Django's HMAC of the password hash, with the session generation: a new password or a
        # sign-out everywhere ends every session signed before it.
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            f"{self.password}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def save(self, *args, **kwargs) -> None:
        """A new password, however it is set (the API, `changepassword`, a shell), revokes the user's
        API tokens, all but the one the caller keeps (`keep_token_hash`, the request's own token)."""
        password_changed = self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            tokens = ApiToken.objects.filter(user=self, revoked_at__isnull=True)
            keep = getattr(self, "keep_token_hash", None)
            if keep is not None:
                tokens = tokens.exclude(key_hash=keep)
            tokens.update(revoked_at=django_timezone.now())

    @property
    def is_staff(self) -> bool:
        """Finance staff and admins use the Django admin back office."""
        return self.is_active and self.role in (Role.FINANCE_MANAGER, Role.ORG_ADMIN, Role.SYSTEM_ADMIN)

    @property
    def is_system_admin(self) -> bool:
        return self.role == Role.SYSTEM_ADMIN


class ApiToken(models.Model):
    """A bearer token: only its SHA-256 is stored; revoking or expiring it ends it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token of {self.user_id}"


class LoginThrottle(models.Model):
    """Failed sign-ins counted per (account, address) pair, per address and per account, and the
    addresses an account signed in from lately. Kept in PostgreSQL, not Redis: a flushed or
    unreachable Redis must not reset a throttle (see login_guard). Keys are hashes; no email or
    address is stored in the clear."""

    key = models.CharField(primary_key=True, max_length=80)
    failures = models.PositiveIntegerField(default=0)
    # When the counting window started; for a known address, when the account last signed in from it.
    window_started_at = models.DateTimeField()
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class Invitation(models.Model):
    """An org admin's invitation of someone by email (apps/tenancy/invitations.py): its link opens a
    page where they set a password, once, until `expires_at`; accepting it makes their user."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True, user__isnull=True)
                | Q(accepted_at__isnull=False, user__isnull=False, revoked_at__isnull=True),
                name="invitation_accepted_with_its_user",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.email}"
