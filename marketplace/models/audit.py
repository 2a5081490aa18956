"""The audit log: one append-only row per state change (who, when, what, from -> to)."""

from django.db import models


class AuditEntry(models.Model):
    actor = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=60)
    from_state = models.CharField(max_length=100, blank=True)
    to_state = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name_plural = "audit entries"
