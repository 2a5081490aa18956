"""The scheduled patent-life check: flags, audit entries, one notification per seller member, e-mails."""

from collections.abc import Callable
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.celery import app, daily_at
from marketplace import actions
from marketplace.models import AuditEntry, Listing, Notification, Patent
from marketplace.tasks import check_patent_life, run_patent_life_check
from tests.marketplace.factories import World, build_world

TODAY = date(2026, 1, 15)
RunCheck = Callable[[date], dict[str, int]]


@pytest.fixture
def world(db: None) -> World:
    """build_world() with e-mail addresses and a second member in the seller organisation."""
    world = build_world()
    for user in User.objects.all():
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    second = User.objects.create_user("seller-colleague", email="seller-colleague@example.org")
    actions.add_member(world.seller, world.seller_org.pk, second)
    return world


@pytest.fixture
def run_check(
    django_capture_on_commit_callbacks: Callable[..., object], mailoutbox: list[EmailMessage]
) -> RunCheck:
    """Run the check as the worker would, e-mails (sent on commit) included."""

    def run(today: date) -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
            return run_patent_life_check(today)

    return run


def seller_members(world: World) -> list[User]:
    return list(User.objects.filter(username__in=[world.seller.username, "seller-colleague"]).order_by("pk"))


def world_patent(world: World) -> Patent:
    return world.listing.patents.get()


def flag_audits(listing: Listing) -> list[tuple[str, str]]:
    entries = AuditEntry.objects.filter(
        object_type="listing", object_id=listing.pk, action="flag_patent_life"
    )
    return list(entries.values_list("from_state", "to_state"))


def test_a_lapsed_patent_flags_the_listing_and_tells_each_seller_member_once(
    world: World, run_check: RunCheck, mailoutbox: list[EmailMessage]
) -> None:
    # given: the office records the listing's patent as lapsed
    patent = world_patent(world)
    patent.legal_status = "lapsed"
    patent.save()

    # when
    summary = run_check(TODAY)

    # then
    assert summary == {
        "listings_checked": 1,
        "listings_flagged": 1,
        "listings_changed": 1,
        "notifications_created": 2,
        "emails_queued": 2,
    }
    listing = Listing.objects.get(pk=world.listing.pk)
    assert listing.life_flags == ["lapsed"]
    assert listing.life_checked_at is not None
    assert flag_audits(listing) == [("", "lapsed")]
    assert AuditEntry.objects.get(action="flag_patent_life").actor is None
    members = seller_members(world)
    notifications = list(Notification.objects.order_by("user_id"))
    assert [n.user for n in notifications] == members
    key = f"patent_life:{listing.pk}:{patent.pk}:lapsed:undated"
    for notification in notifications:
        assert notification.kind == "patent_life"
        assert notification.title == "Patent KR 1020160138184 has lapsed"
        assert notification.body.startswith(
            "The office records patent KR 1020160138184 (GRAPHENE ELECTRODE) in your listing "
            "“3D graphene supercapacitor electrodes” as lapsed"
        )
        assert notification.data == {
            "listing_id": listing.pk,
            "patent_id": patent.pk,
            "warning": "lapsed",
            "date": None,
        }
        assert notification.dedupe_key == key
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(user.email for user in members)
    assert mailoutbox[0].subject == "Patent KR 1020160138184 has lapsed"

    # when: the job runs again the next day
    again = run_check(date(2026, 1, 16))

    # then: nothing new, for nobody
    assert again == {
        "listings_checked": 1,
        "listings_flagged": 1,
        "listings_changed": 0,
        "notifications_created": 0,
        "emails_queued": 0,
    }
    assert Notification.objects.count() == 2
    assert flag_audits(listing) == [("", "lapsed")]
    assert len(mailoutbox) == 2
    checked_again = Listing.objects.get(pk=listing.pk).life_checked_at
    assert checked_again is not None and checked_again > listing.life_checked_at


def test_nobody_outside_the_seller_organisation_is_notified(world: World, run_check: RunCheck) -> None:
    patent = world_patent(world)
    patent.legal_status = "withdrawn"
    patent.save()

    run_check(TODAY)

    members = seller_members(world)
    assert set(Notification.objects.values_list("user_id", flat=True)) == {user.pk for user in members}
    outsiders = [world.buyer, world.other_buyer, world.other_seller, world.broker, world.operator]
    assert not Notification.objects.filter(user__in=outsiders).exists()


def test_each_fee_year_notifies_again_and_flag_changes_are_audited(
    world: World, run_check: RunCheck, mailoutbox: list[EmailMessage]
) -> None:
    # given: registered on 2018-04-02, so the annual fee falls on 2 April every year
    patent = world_patent(world)
    patent.legal_status = "registered"
    patent.registration_date = date(2018, 4, 2)
    patent.save()

    # when: 77 days before the 2026 fee, the day after it (paid), and 82 days before the 2027 fee
    first = run_check(TODAY)
    paid = run_check(date(2026, 4, 3))
    next_year = run_check(date(2027, 1, 10))

    # then
    assert [s["notifications_created"] for s in (first, paid, next_year)] == [2, 0, 2]
    assert flag_audits(world.listing) == [("", "fee_due_soon"), ("fee_due_soon", ""), ("", "fee_due_soon")]
    keys = sorted(set(Notification.objects.values_list("dedupe_key", flat=True)))
    prefix = f"patent_life:{world.listing.pk}:{patent.pk}:fee_due_soon"
    assert keys == [f"{prefix}:2026-04-02", f"{prefix}:2027-04-02"]
    titles = set(Notification.objects.values_list("title", flat=True))
    assert titles == {
        "The annual fee of patent KR 1020160138184 is due in 77 days (2026-04-02)",
        "The annual fee of patent KR 1020160138184 is due in 82 days (2027-04-02)",
    }
    assert len(mailoutbox) == 4


def test_several_warnings_are_kept_whole_in_the_audit_data(world: World, run_check: RunCheck) -> None:
    # given: a second patent that expired, next to the world patent 212 days before its expiry
    patent = world_patent(world)
    patent.legal_status = "registered"
    patent.registration_date = date(2018, 4, 2)
    patent.save()
    expired = Patent.objects.create(
        office="US",
        application_number="11848332",
        expiry_date=date(2025, 10, 18),
        legal_status="expired",
        owner=world.seller_org,
        titles={"en": "Nanoencapsulated aerogels"},
    )
    world.listing.patents.add(expired)

    summary = run_check(date(2036, 3, 26))

    flags = ["expired", "expiring_soon", "fee_due_soon"]
    assert Listing.objects.get(pk=world.listing.pk).life_flags == flags
    entry = AuditEntry.objects.get(action="flag_patent_life")
    assert entry.data == {"from_flags": [], "to_flags": flags}
    assert entry.to_state == "expired,expiring_soon,fee_due_soon"  # fits the 100-character column
    assert summary["notifications_created"] == 3 * 2
    assert Notification.objects.filter(title="Patent US 11848332 expired on 2025-10-18").count() == 2


def test_closed_and_withdrawn_listings_are_not_checked(world: World, run_check: RunCheck) -> None:
    patent = world_patent(world)
    patent.legal_status = "lapsed"
    patent.save()
    actions.withdraw_listing(world.seller, world.listing.pk)

    summary = run_check(TODAY)

    assert summary["listings_checked"] == 0
    assert Listing.objects.get(pk=world.listing.pk).life_checked_at is None
    assert not Notification.objects.exists()


def _add_lapsed_listings(world: World, count: int, start: int) -> None:
    for n in range(start, start + count):
        patent = Patent.objects.create(
            office="KR", application_number=f"10201900{n:05d}", legal_status="lapsed", owner=world.seller_org
        )
        actions.create_listing(world.seller, world.seller_org.pk, f"Listing {n}", [patent.pk], ["assignment"])


def test_queries_do_not_grow_with_the_number_of_listings(world: World) -> None:
    # given: 2 listings whose patents lapsed (the world listing's patent is pending and fine)
    _add_lapsed_listings(world, 2, start=0)
    with CaptureQueriesContext(connection) as small:
        run_patent_life_check(TODAY)
    # given: 4 more
    _add_lapsed_listings(world, 4, start=2)
    with CaptureQueriesContext(connection) as large:
        run_patent_life_check(TODAY)

    # then: 3 then 7 listings, 2 then 4 flag changes: only the audit inserts differ
    assert len(large) - len(small) == 4 - 2
    # savepoint, listings (locked), their patents, members, 2 audit inserts, one update, existing
    # notifications, one insert, release
    assert len(small) == 10, "\n".join(q["sql"][:100] for q in small.captured_queries)


def test_batches_cover_every_listing_once(world: World) -> None:
    _add_lapsed_listings(world, 3, start=0)

    summary = run_patent_life_check(TODAY, batch_size=2)

    assert (summary["listings_checked"], summary["listings_flagged"]) == (4, 3)
    assert not Listing.objects.filter(life_checked_at__isnull=True).exists()


def test_the_job_is_scheduled_daily_by_beat() -> None:
    entry = app.conf.beat_schedule["check-patent-life-daily"]

    assert entry["task"] == "marketplace.check_patent_life"
    assert entry["schedule"] == daily_at("03:00")
    assert str(app.timezone) == "Asia/Seoul"
    with pytest.raises(ValueError, match="HH:MM"):
        daily_at("25:00")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_runs_the_check(celery_worker: str) -> None:
    # given: committed data the worker process can see
    world = build_world()
    patent = world_patent(world)
    patent.legal_status = "lapsed"
    patent.save()

    # when
    summary = check_patent_life.delay(today=TODAY.isoformat()).get(timeout=60)

    # then
    assert summary["listings_flagged"] == 1
    assert summary["notifications_created"] == 1  # build_world's seller organisation has one member
    assert Listing.objects.get(pk=world.listing.pk).life_flags == ["lapsed"]
    assert Notification.objects.get().user == world.seller
