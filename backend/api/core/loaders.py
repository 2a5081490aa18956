"""DataLoaders for synchronous execution, one set per request.

graphene 3 dropped promise-based loaders and our views execute synchronously, so batching cannot wait for
the event loop. Instead, every object the API hands out is noted as "seen"; when a relation of one object
is asked for, its loader fetches the relation for every seen object of that kind in one query. A page of
50 listings therefore costs one query per relation, the same as a page of 5.
"""

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.http import HttpRequest

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loader(Generic[K, V]):
    """Loads values by key in batches. `sources` name where sibling keys come from: for each seen object
    of a model, the attribute holding a key (an Organization loader reads Listing.seller_id, say)."""

    sources: tuple[tuple[type[models.Model], str], ...] = ()

    def __init__(self, loaders: "Loaders") -> None:
        self.loaders = loaders
        self.cache: dict[K, V] = {}

    def batch_load(self, keys: list[K]) -> dict[K, V]:
        raise NotImplementedError

    def missing(self, key: K) -> V:
        raise KeyError(key)

    def load(self, key: K) -> V:
        if key not in self.cache:
            keys = {key}
            for model, attribute in self.sources:
                for obj in self.loaders.seen_objects(model):
                    sibling = getattr(obj, attribute)
                    if sibling is not None and sibling not in self.cache:
                        keys.add(sibling)
            found = self.batch_load(sorted(keys, key=str))
            for k in keys:
                self.cache[k] = found[k] if k in found else self.missing(k)
            self.loaders.see_values(found.values())
        return self.cache[key]


def group_by(rows: Iterable[Any], key: str) -> dict[Any, list[Any]]:
    """Rows of one batched query, grouped by the attribute that names their owner (for ListLoaders)."""
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


class ListLoader(Loader[K, list[V]]):
    """A loader whose value is a list (a listing's patents, a deal's offers); empty when none."""

    def missing(self, key: K) -> list[V]:
        return []


class Loaders:
    """The per-request registry: loader instances by class, and the objects seen so far by model."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self._instances: dict[type[Loader[Any, Any]], Loader[Any, Any]] = {}
        self._seen: dict[type[models.Model], dict[Any, models.Model]] = defaultdict(dict)
        self._memo: dict[str, Any] = {}

    @property
    def user(self) -> User | AnonymousUser:
        return self.request.user

    def get(self, cls: type[Loader[K, V]]) -> Loader[K, V]:
        if cls not in self._instances:
            self._instances[cls] = cls(self)
        return self._instances[cls]

    def see(self, obj: object) -> None:
        """Note an object, and the related objects select_related put on it (a deal broker's profile, a
        membership's organisation): their relations batch with their siblings' too."""
        if isinstance(obj, models.Model) and obj.pk not in self._seen[type(obj)]:
            self._seen[type(obj)][obj.pk] = obj
            for related in obj._state.fields_cache.values():
                self.see(related)

    def see_values(self, values: Iterable[object]) -> None:
        for value in values:
            if isinstance(value, list | tuple):
                for item in value:
                    self.see(item)
            else:
                self.see(value)

    def seen_objects(self, model: type[models.Model]) -> list[models.Model]:
        return list(self._seen[model].values())

    def memo(self, name: str, compute: Callable[[], V]) -> V:
        """A value computed once per request (the viewer's organisations, say)."""
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]  # type: ignore[no-any-return]


def see_handed_out(next_: Callable[..., Any], root: Any, info: Any, **args: Any) -> Any:
    """Graphene middleware: whatever model objects a resolver hands out, even one that needs no loader
    (`me.memberships`), are seen, so the relations of each batch over all of them."""
    value = next_(root, info, **args)
    if isinstance(value, models.Model) or (
        isinstance(value, list) and value and isinstance(value[0], models.Model)
    ):
        loaders_of(info).see_values([value])
    return value


def loaders_of(info: Any) -> Loaders:
    request = info.context
    existing = getattr(request, "loaders", None)
    if existing is None:
        existing = request.loaders = Loaders(request)
    return existing
