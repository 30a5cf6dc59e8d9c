from django.contrib import admin
from django.urls import include, path

from exercises.admin import admin_login

admin.site.site_header = "Course administration"
admin.site.site_title = "Course administration"

urlpatterns = [
    # Before the admin's own URLs: its log-in, with the site's sign-in budget.
    path("admin/login/", admin_login, name="ex-admin-login"),
    path("admin/", admin.site.urls),
    path("", include("exercises.urls")),
]
