from django.urls import path

from . import api

urlpatterns = [
    path("Users", api.UsersApi.as_view(), name="scim-users"),
    path("Users/<str:user_id>", api.UserApi.as_view(), name="scim-user"),
    path("Groups", api.GroupsApi.as_view(), name="scim-groups"),
    path("Groups/<str:group_id>", api.GroupApi.as_view(), name="scim-group"),
    path(
        "ServiceProviderConfig",
        api.DiscoveryApi.as_view(document="ServiceProviderConfig"),
        name="scim-service-provider-config",
    ),
    path("ResourceTypes", api.DiscoveryApi.as_view(document="ResourceTypes"), name="scim-resource-types"),
    path(
        "ResourceTypes/<str:resource_id>",
        api.DiscoveryApi.as_view(document="ResourceTypes"),
        name="scim-resource-type",
    ),
    path("Schemas", api.DiscoveryApi.as_view(document="Schemas"), name="scim-schemas"),
    path("Schemas/<str:resource_id>", api.DiscoveryApi.as_view(document="Schemas"), name="scim-schema"),
]
