"""Query cost as Shopify computes it, before execution (requested) and from the reply (actual).

Rules, derived from Shopify's rate-limit docs and checked against the `requestedQueryCost` real
Shopify returned for captured queries:
- scalars and enums cost 0;
- an object costs 1 when its type is a Node (has an id of its own), an interface, or comes in a
  list; embedded values (MoneyBag, MoneyV2, PageInfo, Weight, InventoryItemMeasurement) cost 0;
- a `Count` (productsCount, ordersCount, ...) costs 10;
- a connection costs 2 + pages(n) x (cost of one `edges.node` + cost of one `nodes` item), where
  n is `first` or `last` and pages(n) = max(1, floor(2 ln n)): Shopify prices a page of 250 like
  11 objects, not 250 (13 for `products(first: 250) { nodes { id } }`);
- on an interface (`node`, `nodes`) the most expensive possible type counts; `nodes(ids:)` costs
  what one node costs, whatever the number of ids;
- a mutation field costs 10, its payload nothing.
The actual cost applies the same rules to what the reply holds: pages(count returned), and null
objects cost only their own weight.
"""

import math
from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
)
from graphql.execution.values import get_argument_values

COUNT_COST = 10
MUTATION_COST = 10
CONNECTION_BASE_COST = 2
_COMPOSITE = (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)


def page_weight(size: int) -> int:
    """How many objects a page of `size` is charged as."""
    return max(1, math.floor(2 * math.log(size))) if size > 0 else 0


def _is_list(type_: GraphQLOutputType) -> bool:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return isinstance(inner, GraphQLList)


def object_weight(type_: GraphQLOutputType) -> int:
    named = get_named_type(type_)
    if _is_list(type_) or is_abstract_type(named):
        return 1
    if isinstance(named, GraphQLObjectType) and any(i.name == "Node" for i in named.interfaces):
        return 1
    return 0


def is_connection(type_: GraphQLOutputType) -> bool:
    return get_named_type(type_).name.endswith("Connection")


class CostCalculator:
    """Walks one operation against the schema; shared by requested and actual cost."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _applies(self, condition_name: str | None, type_: GraphQLObjectType) -> bool:
        if condition_name is None or condition_name == type_.name:
            return True
        condition = self.schema.get_type(condition_name)
        if not isinstance(condition, GraphQLInterfaceType | GraphQLUnionType):
            return False
        return self.schema.is_sub_type(condition, type_)

    def fields_for(self, type_: GraphQLObjectType, selection: SelectionSetNode) -> list[FieldNode]:
        """The fields `selection` asks of an object of `type_`, fragments expanded."""
        fields: list[FieldNode] = []
        for node in selection.selections:
            if isinstance(node, FieldNode):
                fields.append(node)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                if self._applies(condition, type_):
                    fields.extend(self.fields_for(type_, node.selection_set))
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment and self._applies(fragment.type_condition.name.value, type_):
                    fields.extend(self.fields_for(type_, fragment.selection_set))
        return fields

    def possible_types(self, type_: Any) -> list[GraphQLObjectType]:
        if is_abstract_type(type_):
            return list(self.schema.get_possible_types(type_))
        return [type_]

    def arguments(self, parent: GraphQLObjectType, node: FieldNode) -> dict[str, Any]:
        return get_argument_values(parent.fields[node.name.value], node, dict(self.variables))

    def requested_selection(self, type_: Any, selection: SelectionSetNode | None) -> int:
        if selection is None:
            return 0
        costs = [
            sum(self.requested_field(concrete, f) for f in self.fields_for(concrete, selection))
            for concrete in self.possible_types(type_)
        ]
        return max(costs, default=0)

    def requested_field(self, parent: GraphQLObjectType, node: FieldNode) -> int:
        name = node.name.value
        if name.startswith("__") or name not in parent.fields:
            return 0
        field = parent.fields[name]
        named = get_named_type(field.type)
        if not isinstance(named, _COMPOSITE):
            return 0
        if named.name == "Count":
            return COUNT_COST
        if is_connection(field.type):
            arguments = self.arguments(parent, node)
            size = arguments.get("first") or arguments.get("last") or 0
            return CONNECTION_BASE_COST + page_weight(size) * self._per_node(named, node)
        return object_weight(field.type) + self.requested_selection(named, node.selection_set)

    def _per_node(self, connection: Any, node: FieldNode) -> int:
        total = 0
        for field in self.fields_for(connection, node.selection_set):
            if field.name.value == "nodes":
                total += 1 + self.requested_selection(
                    get_named_type(connection.fields["nodes"].type), field.selection_set
                )
            elif field.name.value == "edges":
                edge = get_named_type(connection.fields["edges"].type)
                for inner in self.fields_for(edge, field.selection_set):
                    if inner.name.value == "node":
                        total += 1 + self.requested_selection(
                            get_named_type(edge.fields["node"].type), inner.selection_set
                        )
        return total

    def actual_selection(self, type_: Any, selection: SelectionSetNode | None, data: Any) -> int:
        if selection is None or not isinstance(data, dict):
            return 0
        concrete = self._concrete_type(type_, data)
        if concrete is None:
            return 0
        return sum(
            self.actual_field(concrete, f, data) for f in self.fields_for(concrete, selection)
        )

    def _concrete_type(self, type_: Any, data: dict[str, Any]) -> GraphQLObjectType | None:
        if not is_abstract_type(type_):
            return type_
        typename = data.get("__typename")
        if typename:
            found = self.schema.get_type(typename)
            return found if isinstance(found, GraphQLObjectType) else None
        # Without __typename, charge the costliest type the selection could be.
        return max(self.possible_types(type_), key=lambda t: len(t.fields), default=None)

    def actual_field(self, parent: GraphQLObjectType, node: FieldNode, data: dict[str, Any]) -> int:
        name = node.name.value
        if name.startswith("__") or name not in parent.fields:
            return 0
        field = parent.fields[name]
        named = get_named_type(field.type)
        if not isinstance(named, _COMPOSITE):
            return 0
        if named.name == "Count":
            return COUNT_COST
        value = data.get(node.alias.value if node.alias else name)
        if is_connection(field.type):
            return self._actual_connection(named, node, value)
        weight = object_weight(field.type)
        if isinstance(value, list):
            return weight + max(
                (self.actual_selection(named, node.selection_set, v) for v in value), default=0
            )
        return weight + self.actual_selection(named, node.selection_set, value)

    def _actual_connection(self, connection: Any, node: FieldNode, value: Any) -> int:
        if not isinstance(value, dict):
            return CONNECTION_BASE_COST
        returned, per_node = 0, 0
        for field in self.fields_for(connection, node.selection_set):
            key = field.alias.value if field.alias else field.name.value
            items = value.get(key) or []
            if field.name.value == "nodes":
                node_type = get_named_type(connection.fields["nodes"].type)
                returned = max(returned, len(items))
                per_node += 1 + max(
                    (self.actual_selection(node_type, field.selection_set, i) for i in items),
                    default=0,
                )
            elif field.name.value == "edges":
                edge = get_named_type(connection.fields["edges"].type)
                returned = max(returned, len(items))
                for inner in self.fields_for(edge, field.selection_set):
                    if inner.name.value != "node":
                        continue
                    node_key = inner.alias.value if inner.alias else "node"
                    node_type = get_named_type(edge.fields["node"].type)
                    per_node += 1 + max(
                        (
                            self.actual_selection(node_type, inner.selection_set, e.get(node_key))
                            for e in items
                            if isinstance(e, dict)
                        ),
                        default=0,
                    )
        return CONNECTION_BASE_COST + page_weight(returned) * per_node


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    return (
        schema.mutation_type if operation.operation == OperationType.MUTATION else schema.query_type
    )


def requested_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    """What Shopify charges before running `operation`."""
    root = _root(schema, operation)
    if root is None:
        return 0
    calculator = CostCalculator(schema, fragments, variables)
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(calculator.fields_for(root, operation.selection_set))
    return calculator.requested_selection(root, operation.selection_set)


def actual_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    data: Mapping[str, Any] | None,
) -> int:
    """What Shopify charges once the reply is known: the same rules over the returned objects."""
    root = _root(schema, operation)
    if root is None or data is None:
        return 0
    calculator = CostCalculator(schema, fragments, variables)
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(calculator.fields_for(root, operation.selection_set))
    return calculator.actual_selection(root, operation.selection_set, dict(data))
