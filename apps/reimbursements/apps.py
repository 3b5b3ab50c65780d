from django.apps import AppConfig


class ReimbursementsConfig(AppConfig):
    name = "apps.reimbursements"
    label = "reimbursements"
