from django.contrib import admin

from .forms import BackOfficeLoginForm
from .second_factor import back_office_permission

admin.site.site_header = "LedgerX back office"
admin.site.site_title = "LedgerX back office"
admin.site.index_title = "Back office"
admin.site.login_form = BackOfficeLoginForm
admin.site.has_permission = back_office_permission
# The page is the table: the app list is one click away on the home page, and a sidebar beside a
# change list cut its last columns off at 1280 px (static/web/admin.css lays the rest out).
admin.site.enable_nav_sidebar = False
