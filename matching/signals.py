"""Changes to searchable objects mark their index entries stale (outbox rows in the same transaction)."""

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from marketplace.events import patents_written
from marketplace.models import Demand, Listing, Organization, Patent
from matching.indexing import enqueue
from matching.models import IndexName


def _patents_and_their_listings(patent_ids: list[int]) -> None:
    enqueue(IndexName.PATENTS, patent_ids)
    listing_ids = Listing.patents.through.objects.filter(patent_id__in=patent_ids).values_list(
        "listing_id", flat=True
    )
    enqueue(IndexName.LISTINGS, listing_ids)


@receiver(post_save, sender=Listing)
@receiver(post_delete, sender=Listing)
def listing_changed(sender: Any, instance: Listing, **kwargs: Any) -> None:
    enqueue(IndexName.LISTINGS, [instance.pk])


@receiver(m2m_changed, sender=Listing.patents.through)
def listing_patents_changed(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    if not action.startswith("post_"):
        return
    if isinstance(instance, Listing):
        enqueue(IndexName.LISTINGS, [instance.pk])
    else:  # changed from the patent's side
        _patents_and_their_listings([instance.pk])


@receiver(post_save, sender=Patent)
@receiver(post_delete, sender=Patent)
def patent_changed(sender: Any, instance: Patent, **kwargs: Any) -> None:
    _patents_and_their_listings([instance.pk])


@receiver(patents_written)
def patents_bulk_written(sender: Any, patent_ids: list[int], **kwargs: Any) -> None:
    _patents_and_their_listings(patent_ids)


@receiver(post_save, sender=Demand)
@receiver(post_delete, sender=Demand)
def demand_changed(sender: Any, instance: Demand, **kwargs: Any) -> None:
    enqueue(IndexName.DEMANDS, [instance.pk])


@receiver(post_save, sender=Organization)
def organisation_changed(sender: Any, instance: Organization, created: bool, **kwargs: Any) -> None:
    """Listings and patents show their holder's name and kind."""
    if created:
        return
    enqueue(IndexName.LISTINGS, Listing.objects.filter(seller=instance).values_list("pk", flat=True))
    enqueue(IndexName.PATENTS, Patent.objects.filter(owner=instance).values_list("pk", flat=True))
