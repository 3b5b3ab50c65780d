from django.urls import path

from ledgerx.urls import urlpatterns as ledgerx_urlpatterns

from .views import BaselineApi

urlpatterns = [*ledgerx_urlpatterns, path("bench/baseline", BaselineApi.as_view())]
