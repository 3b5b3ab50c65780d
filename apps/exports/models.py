from apps.ledger.models import Entry


class BooksExport(Entry):
    """No table of its own: the back office's place for the books export page (admin.BooksExportAdmin),
    which lists months to download rather than rows."""

    class Meta:
        proxy = True
        verbose_name = "books export"
        verbose_name_plural = "books exports"
