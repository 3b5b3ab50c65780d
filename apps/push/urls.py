from django.urls import path

from . import api

urlpatterns = [
    path("push/key", api.PushKeyApi.as_view(), name="push-key"),
    path("push/subscriptions", api.PushSubscriptionsApi.as_view(), name="push-subscriptions"),
]
