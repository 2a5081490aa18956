"""Query depth, cost and page-size limits, checked on the parsed query before anything runs.

Cost: every field costs 1; a connection's subtree counts `first`/`last` times; a plain list counts
LIST_FACTOR times (our plain lists are short: a listing's patents, a deal's offers). Variables are
resolved, so a page size passed as `$first` is checked like a literal.
"""

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)
from graphql.language import DocumentNode

from backend.api.core.errors import ApiErrorCode, api_error

MAX_DEPTH = 10
MAX_COST = 10_000
MAX_PAGE_SIZE = 100
LIST_FACTOR = 10


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    max_depth: int = 0
    errors: list[GraphQLError] = field(default_factory=list)

    def argument(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, self.variables)
        return None

    def cost(
        self, selection_set: SelectionSetNode | None, parent: Any, depth: int, seen: frozenset[str]
    ) -> int:
        if selection_set is None:
            return 0
        self.max_depth = max(self.max_depth, depth)
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, depth, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(selection.selection_set, target, depth, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # unknown or cyclic: validation reports it
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.cost(fragment.selection_set, target, depth, seen | {name})
        return total

    def field_cost(self, node: FieldNode, parent: Any, depth: int, seen: frozenset[str]) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0  # introspection is bounded by the schema itself
        field = parent.fields.get(name) if isinstance(parent, GraphQLObjectType) else None
        field_type = field.type if field is not None else None
        named = get_named_type(field_type) if field_type is not None else None
        multiplier = 1
        if named is not None and named.name.endswith("Connection"):
            first, last = self.argument(node, "first"), self.argument(node, "last")
            sizes = [size for size in (first, last) if isinstance(size, int)]
            if any(size > MAX_PAGE_SIZE or size < 0 for size in sizes):
                self._error(
                    ApiErrorCode.PAGE_SIZE_EXCEEDED,
                    f"`{name}` asks for {max(sizes)} items; pages hold 0 to {MAX_PAGE_SIZE}.",
                )
            if not sizes:
                self._error(ApiErrorCode.PAGE_SIZE_REQUIRED, f"`{name}` needs `first` or `last`.")
            multiplier = max(sizes, default=MAX_PAGE_SIZE)
        elif field_type is not None and _is_list(field_type):
            multiplier = LIST_FACTOR
        return 1 + multiplier * self.cost(node.selection_set, named, depth + 1, seen)

    def _error(self, code: str, message: str) -> None:
        self.errors.append(api_error(code, message))


def _is_list(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def check_limits(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> list[GraphQLError]:
    """The errors that refuse this request, or none. Call after validation succeeded."""
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(schema, fragments, variables or {})
    root = schema.get_root_type(operation.operation)
    cost = walk.cost(operation.selection_set, root, 1, frozenset())
    errors = walk.errors
    if walk.max_depth > MAX_DEPTH:
        errors.append(
            api_error(
                ApiErrorCode.QUERY_TOO_DEEP, f"The query nests {walk.max_depth} levels; {MAX_DEPTH} at most."
            )
        )
    if cost > MAX_COST:
        errors.append(
            api_error(
                ApiErrorCode.QUERY_TOO_COSTLY, f"The query could return {cost} fields; {MAX_COST} at most."
            )
        )
    return errors
