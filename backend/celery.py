"""The Celery application: Redis broker, tasks discovered in the domain packages and in backend.

`app.autodiscover_tasks()` imports `<app>.tasks` of every INSTALLED_APP (`marketplace.tasks`,
`backend.tasks`…) when the worker starts. Beat (run inside the demo worker by scripts/services.sh) sends the
periodic tasks below; crontab times are in CELERY_TIMEZONE (settings, default Asia/Seoul).
"""

import os

from celery import Celery
from celery.schedules import crontab

from backend.env import env

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")


def daily_at(value: str) -> crontab:
    """'HH:MM' (24-hour clock) -> a crontab firing once a day at that time."""
    hour, _, minute = value.strip().partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError(f"expected a time of day as HH:MM, got {value!r}")
    return crontab(hour=int(hour), minute=int(minute))


app = Celery("ipmarket")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "check-patent-life-daily": {
        "task": "marketplace.check_patent_life",
        "schedule": daily_at(env("PATENT_LIFE_CHECK_AT", "03:00")),
        # A missed day is not worth two runs back to back: drop a run that waited over an hour.
        "options": {"expires": 3600},
    },
    # Index changes that the after-commit task could not apply (Elasticsearch or the broker was down).
    "sweep-search-outbox": {
        "task": "matching.sweep_outbox",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Escrow: money moves the gateway still owes (after a crash or an outage), released inspections,
    # holding-period reminders. Each task is idempotent, so a late or doubled run changes nothing.
    "escrow-execute-pending-operations": {
        "task": "escrow.execute_pending_operations",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "escrow-release-after-inspection": {
        "task": "escrow.release_after_inspection",
        "schedule": 900.0,
        "options": {"expires": 850},
    },
    # Deal rooms: tell participants who were away what they missed; rooms are locked one at a time and
    # marked as digested, so a late or doubled run sends nothing twice.
    "deal-room-digests": {
        "task": "marketplace.send_room_digests",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "escrow-send-hold-reminders": {
        "task": "escrow.send_hold_reminders",
        "schedule": daily_at(env("ESCROW_HOLD_REMINDERS_AT", "09:00")),
        "options": {"expires": 3600},
    },
}
