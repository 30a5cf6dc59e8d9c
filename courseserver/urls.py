from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views import defaults

from exercises import course_gradebook, student_picker, view_as
from exercises.admin import admin_login

admin.site.site_header = "Course administration"
admin.site.site_title = "Course administration"

urlpatterns = [
    # First: the API's requests are most of the requests during an exam, and every
    # pattern tried before the one that matches costs a little.
    path("api/", include("exercises.api_urls")),
    # Before the admin's own URLs: its log-in, with the site's sign-in budget.
    path("admin/login/", admin_login, name="ex-admin-login"),
    # Picking a student by name in the admin, for staff who may not see the user admin.
    path(
        "admin/students/",
        admin.site.admin_view(student_picker.search),
        name="ex-admin-students",
    ),
    # The whole course's gradebook, for staff who may look after submissions.
    path(
        "admin/gradebook/",
        admin.site.admin_view(course_gradebook.view),
        name="ex-admin-gradebook",
    ),
    # Viewing the course as a given student sees it, read-only.
    path("admin/view-as/", admin.site.admin_view(view_as.pick), name="ex-admin-view-as"),
    path("admin/view-as/stop/", admin.site.admin_view(view_as.stop), name="ex-admin-view-as-stop"),
    path("admin/", admin.site.urls),
    path("lti/", include("lti.urls")),
    path("", include("exercises.urls")),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Under /api/ a URL that names nothing (`/api/submissions/-1/`) answers like the
    API's own 404s, in JSON, as its schema says; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


handler404 = not_found
