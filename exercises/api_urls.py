"""The JSON API's URLs, under /api/ (`courseserver/urls.py` puts them first: a request
is matched against the patterns in order, and the API's are the ones asked for most)."""

from django.urls import path

from exercises import api, apischema

urlpatterns = [
    path("auth/token/", api.token, name="ex-api-token"),
    path("modules/", api.modules, name="ex-api-modules"),
    path("exercises/<slug:slug>/", api.exercise, name="ex-api-exercise"),
    path(
        "sets/<slug:set_slug>/exercises/<slug:slug>/",
        api.placed_exercise,
        name="ex-api-placed-exercise",
    ),
    path(
        "sets/<slug:set_slug>/exercises/<slug:slug>/submissions/",
        api.placed_submit,
        name="ex-api-placed-submit",
    ),
    path(
        "sets/<slug:set_slug>/exercises/<slug:slug>/runs/",
        api.placed_run_tests,
        name="ex-api-placed-run",
    ),
    path("exercises/<slug:slug>/submissions/", api.submit, name="ex-api-submit"),
    path("submissions/<int:pk>/", api.submission, name="ex-api-submission"),
    path("exercises/<slug:slug>/runs/", api.run_tests, name="ex-api-run"),
    path("runs/<int:pk>/", api.run_result, name="ex-api-run-result"),
    path("schema/", apischema.schema, name="ex-api-schema"),
]
