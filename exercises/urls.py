from django.contrib.auth import views as auth_views
from django.urls import path

from exercises import accounts, api, apischema, preview, quiz, views

urlpatterns = [
    path("", views.course, name="ex-course"),
    path("signup/", views.signup, name="ex-signup"),
    path("login/", views.ThrottledLoginView.as_view(), name="ex-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="ex-logout"),
    path("password-reset/", accounts.password_reset, name="ex-password-reset"),
    path("password-reset/sent/", accounts.password_reset_sent, name="ex-password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        accounts.password_reset_confirm,
        name="ex-password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        accounts.password_reset_complete,
        name="ex-password-reset-complete",
    ),
    path("help/", views.help_page, name="ex-help"),
    path("health/", views.health, name="ex-health"),
    path("modules/<slug:slug>/", views.module, name="ex-module"),
    path("sets/<slug:slug>/", views.problem_set, name="ex-problem-set"),
    path("sets/<slug:slug>/start/", quiz.start, name="ex-quiz-start"),
    path("sets/<slug:set_slug>/exercises/<slug:slug>/", views.exercise, name="ex-placed-exercise"),
    path(
        "sets/<slug:set_slug>/exercises/<slug:slug>/draft/", quiz.draft, name="ex-placed-quiz-draft"
    ),
    path("sets/<slug:set_slug>/exercises/<slug:slug>/run/", views.run_tests, name="ex-placed-run"),
    path("exercises/<slug:slug>/", views.exercise, name="ex-exercise"),
    path("exercises/<slug:slug>/draft/", quiz.draft, name="ex-quiz-draft"),
    path("exercises/<slug:slug>/preview/", preview.preview, name="ex-preview"),
    path("exercises/<slug:slug>/run/", views.run_tests, name="ex-run"),
    path("submissions/<int:pk>/", views.submission, name="ex-submission"),
    path("runs/<int:pk>/", views.run_result, name="ex-run-result"),
    path("api/auth/token/", api.token, name="ex-api-token"),
    path("api/modules/", api.modules, name="ex-api-modules"),
    path("api/exercises/<slug:slug>/", api.exercise, name="ex-api-exercise"),
    path(
        "api/sets/<slug:set_slug>/exercises/<slug:slug>/",
        api.placed_exercise,
        name="ex-api-placed-exercise",
    ),
    path(
        "api/sets/<slug:set_slug>/exercises/<slug:slug>/submissions/",
        api.placed_submit,
        name="ex-api-placed-submit",
    ),
    path(
        "api/sets/<slug:set_slug>/exercises/<slug:slug>/runs/",
        api.placed_run_tests,
        name="ex-api-placed-run",
    ),
    path("api/exercises/<slug:slug>/submissions/", api.submit, name="ex-api-submit"),
    path("api/submissions/<int:pk>/", api.submission, name="ex-api-submission"),
    path("api/exercises/<slug:slug>/runs/", api.run_tests, name="ex-api-run"),
    path("api/runs/<int:pk>/", api.run_result, name="ex-api-run-result"),
    path("api/schema/", apischema.schema, name="ex-api-schema"),
]
