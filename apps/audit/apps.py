from django.apps import AppConfig


def _record_administration_change(sender, *, actor, action, target, before, after, **kwargs) -> None:
    from .services import audit_record

    audit_record(actor=actor, action=action, target=target, before=before, after=after)


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self) -> None:
        from apps.tenancy.signals import administration_changed

        # Tenancy sits below this app and cannot call audit_record itself.
        administration_changed.connect(_record_administration_change, dispatch_uid="audit-administration-changed")
