from django.urls import path

from . import api

urlpatterns = [
    path("statement-sources", api.SourceListApi.as_view(), name="statement-source-list"),
    path(
        "statement-sources/<uuid:source_id>/imports", api.StatementImportApi.as_view(), name="statement-import-create"
    ),
    path("statement-imports/<uuid:import_id>", api.StatementImportDetailApi.as_view(), name="statement-import-detail"),
    path("statement-imports/<uuid:import_id>/lines", api.StatementLineListApi.as_view(), name="statement-line-list"),
    path("statement-lines/<uuid:line_id>/match", api.StatementLineMatchApi.as_view(), name="statement-line-match"),
    path("statement-lines/<uuid:line_id>/spend", api.StatementLineSpendApi.as_view(), name="statement-line-spend"),
]
