"""The gateway's webhook endpoint."""

from django.http import HttpRequest, HttpResponse


def stripe_webhook(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)
