from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from backend.api.core.view import ApiView
from backend.health import healthz
from backend.views import home
from escrow.payments.webhooks import stripe_webhook

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # CSRF is decided in ApiView: checked when a session cookie is sent, moot for bearer tokens.
    # Signed by the gateway, not by a browser: CSRF does not apply; the signature is checked instead.
    path("webhooks/stripe/", csrf_exempt(stripe_webhook), name="stripe-webhook"),
    path("escrow/", include("escrow.urls")),
    path("graphql/", csrf_exempt(ApiView.as_view(graphiql=settings.DEBUG)), name="graphql"),
]
