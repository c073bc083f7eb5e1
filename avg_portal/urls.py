from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from . import health, views
from .middleware import second_factor_not_required

# django-two-factor-auth's screens, under the namespace its own code and templates expect,
# with our templates and our email login form.
two_factor_patterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("two-factor/setup/", views.SetupView.as_view(), name="setup"),
    path("two-factor/qrcode/", views.QRGeneratorView.as_view(), name="qr"),
    path("two-factor/setup/complete/", views.SetupCompleteView.as_view(), name="setup_complete"),
    path("two-factor/backup-codes/", views.BackupTokensView.as_view(), name="backup_tokens"),
]

account_patterns = [
    path("signup/", views.signup, name="signup"),
    path("confirm/<str:token>/", views.confirm_email, name="confirm_email"),
    path("confirm-again/", views.resend_confirmation, name="resend_confirmation"),
    path(
        "logout/",
        second_factor_not_required(auth_views.LogoutView.as_view()),
        name="logout",
    ),
    path(
        "password/change/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="emails/password_reset/body.txt",
            html_email_template_name="emails/password_reset/body.html",
            subject_template_name="emails/password_reset/subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("security/", views.security_log, name="security_log"),
    path("two-factor/replace/", views.replace_authenticator, name="replace_authenticator"),
    path(
        "two-factor/replace/confirm/",
        views.replace_authenticator_confirm,
        name="replace_authenticator_confirm",
    ),
]

urlpatterns = [
    path("account/", include((two_factor_patterns, "two_factor"))),
    path("account/", include(account_patterns)),
    path("", include("records.urls")),
    path("", include("agreements.urls")),
    path("breaches/", include("breaches.urls")),
    # Browsers ask for /favicon.ico whatever the page links to.
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg")),
        name="favicon",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]

handler500 = "avg_portal.views.server_error"
