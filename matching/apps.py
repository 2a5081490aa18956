from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signal receivers mark index entries stale; the tasks module registers the indexing tasks.
        from matching import index_tasks, signals  # noqa: F401
