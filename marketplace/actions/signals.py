"""Behaviour signals: bookmarks and views feed recommendations. Not audited: they change no state."""

from django.contrib.auth.models import User
from django.db import transaction

from marketplace.access import access_listing
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import Bookmark, Listing, ListingView


def _signed_in(user: User) -> None:
    if not user.is_authenticated:
        raise ActionError(MarketplaceErrorCode.NOT_AUTHENTICATED, "Sign in first.")


@transaction.atomic
def bookmark_listing(user: User, listing_id: int, on: bool = True) -> Listing:
    _signed_in(user)
    listing = access_listing(user, listing_id)
    if on:
        # The unique constraint makes a double click one bookmark.
        Bookmark.objects.bulk_create([Bookmark(user=user, listing=listing)], ignore_conflicts=True)
    else:
        Bookmark.objects.filter(user=user, listing=listing).delete()
    return listing


def record_view(user: User, listing_id: int) -> Listing:
    _signed_in(user)
    listing = access_listing(user, listing_id)
    ListingView.objects.create(user=user, listing=listing)
    return listing
