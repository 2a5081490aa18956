"""In-app notifications, and the idempotency keys that make create mutations safe to retry."""

from django.db import models


class Notification(models.Model):
    """Something a user should see: a patent of their listing lapsing, a deal event, unread messages."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Scheduled jobs run again and again; the key makes "tell the seller once" a constraint, not a check.
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_dedupe")]
        indexes = [models.Index(fields=["user", "read_at"])]


class IdempotencyKey(models.Model):
    """A client's retry of a create mutation with the same key returns the first result, not a copy."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    operation = models.CharField(max_length=60)
    # SHA-256 of the canonical input: the same key with different input is refused, not silently replayed.
    request_sha256 = models.CharField(max_length=64)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "operation", "key"], name="idempotency_key_uniq")
        ]
