"""Query depth, cost and page-size limits, checked on the parsed query before anything runs.

Cost: every field costs 1; a connection's edges count `first`/`last` times (the connection itself, its
`totalCount` and `pageInfo` once); any other list counts LIST_FACTOR times (our plain lists are short: a
listing's patents, a deal's offers). Variables are coerced as execution will coerce them, defaults
included, so a page size passed as `$first` is checked like a literal.
"""

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
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
from graphql.execution.values import get_variable_values
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
    # (fragment, depth, page) -> (cost, deepest level reached): a fragment costs the same wherever it is
    # spread at the same depth, so fragments spreading fragments cannot make this walk exponential.
    spreads: dict[tuple[str, int, int | None], tuple[int, int]] = field(default_factory=dict)

    def argument(self, node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, self.variables)
        return None

    def cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        depth: int,
        page: int | None = None,
        spread: set[str] | None = None,
    ) -> int:
        """`page` is the page size when `parent` is a connection: its edges count that many times.
        `spread` holds the fragments already spread at this level: execution applies each once."""
        if selection_set is None:
            return 0
        self.max_depth = max(self.max_depth, depth)
        spread = set() if spread is None else spread
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, depth, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(selection.selection_set, target, depth, page, spread)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
                spread.add(selection.name.value)
                total += self.spread_cost(selection.name.value, depth, page)
        return total

    def spread_cost(self, name: str, depth: int, page: int | None) -> int:
        key = (name, depth, page)
        if key not in self.spreads:
            fragment = self.fragments.get(name)
            if fragment is None:  # validation reports it
                return 0
            self.spreads[key] = (0, depth)  # a cyclic spread (validation reports it) ends here
            outer, self.max_depth = self.max_depth, depth
            target = self.schema.get_type(fragment.type_condition.name.value)
            self.spreads[key] = (self.cost(fragment.selection_set, target, depth, page), self.max_depth)
            self.max_depth = outer
        cost, deepest = self.spreads[key]
        self.max_depth = max(self.max_depth, deepest)
        return cost

    def field_cost(self, node: FieldNode, parent: Any, depth: int, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0  # introspection is bounded by the schema itself
        has_fields = isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
        field = parent.fields.get(name) if has_fields else None
        field_type = field.type if field is not None else None
        named = get_named_type(field_type) if field_type is not None else None
        if named is not None and named.name.endswith("Connection"):
            return 1 + self.cost(node.selection_set, named, depth + 1, self.page_size(node, name))
        multiplier = 1
        if field_type is not None and _is_list(field_type):
            multiplier = LIST_FACTOR if page is None else page
        return 1 + multiplier * self.cost(node.selection_set, named, depth + 1)

    def page_size(self, node: FieldNode, name: str) -> int:
        first, last = self.argument(node, "first"), self.argument(node, "last")
        sizes = [size for size in (first, last) if isinstance(size, int)]
        if any(size > MAX_PAGE_SIZE or size < 0 for size in sizes):
            self._error(
                ApiErrorCode.PAGE_SIZE_EXCEEDED,
                f"`{name}` asks for {max(sizes)} items; pages hold 0 to {MAX_PAGE_SIZE}.",
            )
        if not sizes:
            self._error(ApiErrorCode.PAGE_SIZE_REQUIRED, f"`{name}` needs `first` or `last`.")
        return max(sizes, default=MAX_PAGE_SIZE)

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
    inputs = variables if isinstance(variables, dict) else {}
    coerced = get_variable_values(schema, operation.variable_definitions or [], inputs)
    if isinstance(coerced, list):
        return coerced  # variables execution would refuse: refused now, the same way
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(schema, fragments, coerced)
    root = schema.get_root_type(operation.operation)
    cost = walk.cost(operation.selection_set, root, 1)
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
