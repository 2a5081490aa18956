"""Delivery layer: Django project, ASGI routing, GraphQL API, websocket consumers, webhooks."""

from backend.celery import app as celery_app

__all__ = ["celery_app"]
