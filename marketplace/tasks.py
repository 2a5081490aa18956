"""Scheduled marketplace jobs (Celery, discovered through INSTALLED_APPS): the daily patent-life check and
the deal rooms' offline digests."""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import models, transaction
from django.utils import timezone

from marketplace import audit
from marketplace.models import AuditEntry, Listing, ListingStatus, Membership, Notification, Patent
from marketplace.patent_life import (
    LifeAlert,
    LifeWarning,
    fee_name,
    listing_flags,
    patent_label,
    patent_life,
)
from marketplace.rooms import digest

logger = logging.getLogger(__name__)

LIVE_STATUSES = (ListingStatus.DRAFT, ListingStatus.PUBLISHED, ListingStatus.UNDER_NEGOTIATION)
BATCH_SIZE = 500
NOTIFICATION_KIND = "patent_life"
AUDIT_ACTION = "flag_patent_life"


@dataclass
class CheckSummary:
    listings_checked: int = 0
    listings_flagged: int = 0
    listings_changed: int = 0
    notifications_created: int = 0
    emails_queued: int = 0

    def add(self, other: "CheckSummary") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def dedupe_key(listing_id: int, patent_id: int, alert: LifeAlert) -> str:
    """One key per listing, patent, warning and the date it is about: a re-run finds it taken."""
    return f"{NOTIFICATION_KIND}:{listing_id}:{patent_id}:{alert.code.value}:{alert.date_text or 'undated'}"


def notice_text(listing: Listing, patent: Patent, alert: LifeAlert) -> tuple[str, str]:
    """Title and body of the notification telling a seller about one warning."""
    label = patent_label(patent)
    where = f"patent {label} ({patent.title}) in your listing “{listing.title}”"
    day, when = alert.date_text, alert.when
    if alert.code == LifeWarning.LAPSED:
        return (
            f"Patent {label} has lapsed",
            f"The office records {where} as lapsed: it grants no rights any more. Restore it if late "
            "payment is still allowed, or remove it from the listing.",
        )
    if alert.code == LifeWarning.WITHDRAWN:
        return (
            f"Application {label} was withdrawn",
            f"The office records {where} as withdrawn: it will not be granted. Remove it from the listing.",
        )
    if alert.code == LifeWarning.EXPIRED:
        ended = f" on {day}" if day else ""
        return (
            f"Patent {label} expired{ended}",
            f"The term of {where} ended{ended}: it grants no rights any more. Remove it from the listing "
            "or offer its know-how alone.",
        )
    if alert.code == LifeWarning.EXPIRING_SOON:
        return (
            f"Patent {label} expires {when} ({day})",
            f"The term of {where} ends on {day}, {when}. Buyers will discount it: price the remaining "
            "term, or add related patents and know-how to the package.",
        )
    fee = fee_name(patent)
    return (
        f"The {fee} of patent {label} is due {when} ({day})",
        f"The {fee} of {where} is due on {day}, {when}. If it is not paid (the office allows a late "
        "payment with a surcharge for a few months), the patent lapses and the listing loses it.",
    )


def _fit(text: str, field: str) -> str:
    """AuditEntry's state columns are short; the full flag lists are in the entry's data."""
    column = AuditEntry._meta.get_field(field)
    limit = column.max_length if isinstance(column, models.CharField) and column.max_length else len(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _send(messages: list[EmailMessage]) -> None:
    try:
        get_connection().send_messages(messages)
    except Exception:
        # The in-app notifications are committed and are the record; a mail outage must not undo them.
        logger.exception("patent-life e-mails could not be sent (%d messages)", len(messages))


def _emails(created: list[Notification], addresses: dict[int, str]) -> list[EmailMessage]:
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for notification in created:
        if addresses.get(notification.user_id):
            by_user[notification.user_id].append(notification)
    messages = []
    for user_id, notes in by_user.items():
        subject = notes[0].title if len(notes) == 1 else f"{len(notes)} patent warnings on your listings"
        body = "\n\n".join(f"{note.title}\n{note.body}" for note in notes)
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [addresses[user_id]]))
    return messages


def _check_batch(listings: list[Listing], today: date, now: datetime) -> CheckSummary:
    summary = CheckSummary(listings_checked=len(listings))
    members: dict[int, list[int]] = defaultdict(list)
    addresses: dict[int, str] = {}
    for org_id, user_id, email in Membership.objects.filter(
        organization_id__in={listing.seller_id for listing in listings}, user__is_active=True
    ).values_list("organization_id", "user_id", "user__email"):
        members[org_id].append(user_id)
        addresses[user_id] = email
    candidates: list[Notification] = []
    for listing in listings:
        lives = [(patent, patent_life(patent, today)) for patent in listing.patents.all()]
        old, new = list(listing.life_flags), listing_flags([life for _, life in lives])
        if set(old) != set(new):
            summary.listings_changed += 1
            audit.record(
                None,
                listing,
                AUDIT_ACTION,
                from_state=_fit(",".join(old), "from_state"),
                to_state=_fit(",".join(new), "to_state"),
                from_flags=old,
                to_flags=new,
            )
        summary.listings_flagged += bool(new)
        listing.life_flags, listing.life_checked_at = new, now
        for patent, life in lives:
            for alert in life.warnings:
                title, body = notice_text(listing, patent, alert)
                data = {
                    "listing_id": listing.pk,
                    "patent_id": patent.pk,
                    "warning": alert.code.value,
                    "date": alert.date_text or None,
                }
                key = dedupe_key(listing.pk, patent.pk, alert)
                candidates.extend(
                    Notification(
                        user_id=user_id,
                        kind=NOTIFICATION_KIND,
                        title=title,
                        body=body,
                        data=data,
                        dedupe_key=key,
                    )
                    for user_id in members[listing.seller_id]
                )
    Listing.objects.bulk_update(listings, ["life_flags", "life_checked_at"])
    if not candidates:
        return summary
    # The unique (user, dedupe_key) constraint is what keeps a re-run from notifying twice. The read
    # before it only tells which rows are new, to e-mail those: it is exact because only this job writes
    # these keys and it holds the listings' row locks.
    taken = set(
        Notification.objects.filter(
            dedupe_key__in={n.dedupe_key for n in candidates}, user_id__in={n.user_id for n in candidates}
        ).values_list("user_id", "dedupe_key")
    )
    created = [n for n in candidates if (n.user_id, n.dedupe_key) not in taken]
    Notification.objects.bulk_create(created, ignore_conflicts=True)
    summary.notifications_created = len(created)
    messages = _emails(created, addresses)
    if messages:
        transaction.on_commit(partial(_send, messages))
    summary.emails_queued = len(messages)
    return summary


def run_patent_life_check(today: date, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Flag every live listing by its patents' warnings, audit changes and notify the sellers' members.

    One transaction per batch of listings, locked in primary-key order; per batch a fixed number of
    queries (listings, their patents, members, existing notifications, one update, one insert) plus one
    audit insert per listing whose flags changed.
    """
    summary, last_pk, now = CheckSummary(), 0, timezone.now()
    while True:
        with transaction.atomic():
            listings = list(
                Listing.objects.filter(status__in=LIVE_STATUSES, pk__gt=last_pk)
                .order_by("pk")
                .select_for_update()
                .prefetch_related("patents")[:batch_size]
            )
            if listings:
                summary.add(_check_batch(listings, today, now))
        if len(listings) < batch_size:
            return dict(vars(summary))
        last_pk = listings[-1].pk


def local_today() -> date:
    """Today where the schedule runs (CELERY_TIMEZONE): the patent offices' dates are local dates."""
    return timezone.localdate(timezone=ZoneInfo(settings.CELERY_TIMEZONE))


@shared_task(name="marketplace.check_patent_life")
def check_patent_life(today: str | None = None) -> dict[str, int]:
    """Daily by Celery beat (backend/celery.py). `today` (ISO date) replays a given day."""
    return run_patent_life_check(date.fromisoformat(today) if today else local_today())


@shared_task(name="marketplace.send_room_digests", ignore_result=True)
def send_room_digests() -> int:
    """Every minute by Celery beat: one digest per away participant of each room gone quiet."""
    return digest.send_room_digests()
