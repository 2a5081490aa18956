"""Finding what the generator made: every invented row is marked, or (users) lives on a reserved domain."""

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from marketplace.demo.cast import DEMO_EMAIL_DOMAINS
from marketplace.demo.catalogue import LISTED_STATUSES
from marketplace.models import Organization

MAX_SELLERS = 5  # the real holders with the most patents become the demo's sellers


def generated_users() -> QuerySet[User]:
    """Users whose address is under a domain reserved for examples (x@example.com, x@a.example.kr)."""
    query = Q()
    for domain in DEMO_EMAIL_DOMAINS:
        query |= Q(email__iendswith=f"@{domain}") | Q(email__iendswith=f".{domain}")
    return User.objects.filter(query)


def real_holders() -> list[Organization]:
    """Real organisations holding live patents, the largest holders first (ties by name)."""
    return list(
        Organization.objects.filter(is_generated=False, patents__legal_status__in=LISTED_STATUSES)
        .annotate(live_patents=Count("patents"))
        .order_by("-live_patents", "name", "pk")[:MAX_SELLERS]
    )
