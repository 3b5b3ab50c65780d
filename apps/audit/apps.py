from django.apps import AppConfig


def _record_administration_change(
    sender, *, actor, action, target, before, after, actor_label: str = "", **kwargs
) -> None:
    from .services import audit_record

    audit_record(actor=actor, action=action, target=target, before=before, after=after, actor_label=actor_label)


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self) -> None:
        from apps.tenancy.signals import administration_changed

        # Tenancy sits below this app and cannot call audit_record itself.
        administration_changed.connect(_record_administration_change, dispatch_uid="audit-administration-changed")
        _install_audit_context()


def _install_audit_context() -> None:
    """Every connection sets the actor before writes to the audited tables; every command is an actor."""
    from django.core.management.base import BaseCommand
    from django.db import connections
    from django.db.backends.signals import connection_created

    from ledgerx.audit_context import AuditContextSetter, command_audit_context, install_audit_context_setter

    from .guarded_triggers import AUDITED_WRITES

    setter = AuditContextSetter(AUDITED_WRITES)

    def install(sender, connection, **kwargs) -> None:
        install_audit_context_setter(connection, setter)

    connection_created.connect(install, weak=False, dispatch_uid="audit-context-setter")
    for connection in connections.all(initialized_only=True):
        install_audit_context_setter(connection, setter)
    if not getattr(BaseCommand.execute, "audit_context", False):
        BaseCommand.execute = command_audit_context(BaseCommand.execute)
