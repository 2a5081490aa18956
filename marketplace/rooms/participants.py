"""Who takes part in a deal's room: the seller organisation's members, the buyer organisation's members
and the deal's brokers. Operators may read any room but are not participants (nobody lists or notifies them).
"""

from django.contrib.auth.models import User

from marketplace.models import AuthorRole, Deal, DealBroker, Membership


def participants(deal: Deal) -> list[tuple[User, str]]:
    """(user, role) by user id. Someone in both organisations counts as seller, a member who is also a
    broker as their side: the same precedence as `view.role_of`."""
    people: dict[int, tuple[User, str]] = {}
    sides = ((deal.listing.seller_id, AuthorRole.SELLER), (deal.buyer_id, AuthorRole.BUYER))
    for organization_id, role in sides:
        for membership in Membership.objects.filter(organization_id=organization_id).select_related("user"):
            people.setdefault(membership.user_id, (membership.user, str(role)))
    for broker in DealBroker.objects.filter(deal=deal).select_related("broker"):
        people.setdefault(broker.broker_id, (broker.broker, str(AuthorRole.BROKER)))
    return [people[user_id] for user_id in sorted(people)]
