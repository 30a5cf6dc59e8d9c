from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Course administration"
admin.site.site_title = "Course administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("exercises.urls")),
]
