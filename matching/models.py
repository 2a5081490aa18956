"""PostgreSQL state of matching: cached vectors, the index outbox, saved searches.

Elasticsearch holds only derived data; everything here lets it be rebuilt or caught up from PostgreSQL.
"""

from django.conf import settings
from django.db import models


class TextVector(models.Model):
    """One encoder output, computed once: keyed by the text's hash and the model version.

    Rebuilds and re-indexing read vectors from here, so encoding (the slow part on CPU) never repeats for
    a text it has already seen; a new model version simply misses the cache and fills it anew.
    """

    model_version = models.CharField(max_length=64)
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the role prefix and the text")
    dimensions = models.PositiveSmallIntegerField()
    vector = models.BinaryField(help_text="little-endian float32, L2-normalised")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "text_hash"], name="textvector_unique_text"),
        ]


class AnalysedText(models.Model):
    """The analysed terms of one text, computed once per analyzer version (Korean analysis is the slow part
    of building documents: rebuilds read the terms from here instead of analysing again)."""

    analyzer_version = models.CharField(max_length=120)
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the language hint and the text")
    terms = models.TextField(help_text="the terms, space-separated")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["analyzer_version", "text_hash"], name="analysedtext_unique_text"
            ),
        ]


class IndexName(models.TextChoices):
    LISTINGS = "listings"
    PATENTS = "patents"
    DEMANDS = "demands"


class IndexOutbox(models.Model):
    """An object whose search entry is stale, written in the same transaction as the change itself.

    The row stays until Elasticsearch has taken the new state, so changes made while Elasticsearch is
    down are applied when it returns (the periodic sweep drains what the after-commit task could not).
    """

    index = models.CharField(max_length=16, choices=IndexName.choices)
    object_id = models.BigIntegerField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["index", "object_id"], name="indexoutbox_unique_object"),
        ]
        indexes = [models.Index(fields=["enqueued_at"])]


class SavedSearch(models.Model):
    """A listing search a user keeps; new listings that match it are notified to its owner once."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=200)
    query = models.CharField(max_length=500, blank=True)
    language = models.CharField(max_length=8, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "created_at"])]


class SavedSearchMatch(models.Model):
    """A listing already announced for a saved search: the unique pair makes the notice happen once."""

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="matches")
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.CASCADE, related_name="+")
    matched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["saved_search", "listing"], name="savedsearchmatch_unique"),
        ]
