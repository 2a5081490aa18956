"""Behaviour signals for recommendations (not Django signals): views and bookmarks; deals are inquiries."""

from django.db import models


class ListingView(models.Model):
    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.CASCADE, related_name="views")
    viewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "viewed_at"])]


class Bookmark(models.Model):
    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="bookmarks")
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "listing"], name="bookmark_uniq")]
