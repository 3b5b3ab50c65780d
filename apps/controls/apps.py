from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "apps.controls"
    label = "controls"
