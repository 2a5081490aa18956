"""The Celery application: Redis broker, tasks discovered in the domain packages and in backend."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("ipmarket")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
