from django.apps import AppConfig
from django.db.models.signals import post_save


def _department_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    from .services import budget_periods_follow_standing_limit, budget_periods_open_for_new_department

    if raw:
        return
    if created:
        budget_periods_open_for_new_department(department=instance)
    else:
        budget_periods_follow_standing_limit(department=instance)


class BudgetsConfig(AppConfig):
    name = "apps.budgets"
    label = "budgets"

    def ready(self) -> None:
        # A department has its budget periods from the transaction that creates it, and its months to come
        # take a new standing limit in the transaction that sets it, however either is done; tenancy sits
        # below budgets and does not know it.
        post_save.connect(_department_saved, sender="tenancy.Department", dispatch_uid="budgets-department-saved")
