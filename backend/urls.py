from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from backend.api.core.view import ApiView
from backend.health import healthz
from backend.spa import web_app
from escrow.payments.webhooks import stripe_webhook

NOT_APP = "admin/|graphql/|escrow/|webhooks/|static/|assets/|healthz"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # CSRF is decided in ApiView: checked when a session cookie is sent, moot for bearer tokens.
    # Signed by the gateway, not by a browser: CSRF does not apply; the signature is checked instead.
    path("webhooks/stripe/", csrf_exempt(stripe_webhook), name="stripe-webhook"),
    path("escrow/", include("escrow.urls")),
    path("graphql/", csrf_exempt(ApiView.as_view(graphiql=settings.DEBUG)), name="graphql"),
    # Everything else is a route of the web app (frontend/), except the prefixes above and static files.
    path("", web_app, name="home"),
    re_path(rf"^(?!{NOT_APP})(?P<path>.+)$", web_app, name="web-app"),
]
