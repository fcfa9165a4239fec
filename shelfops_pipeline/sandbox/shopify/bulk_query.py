"""The query of a bulk operation: Shopify's checks on it, and its results as JSONL objects.

A bulk query walks every page of its connections (paging arguments are ignored). Each node of a
connection becomes one JSONL object; nodes of a nested connection are objects of their own with
`__parentId` naming the enclosing node. With `groupObjects` each top-level object's children
follow it directly; without, they follow their parent but, as in Shopify's ungrouped files, not
right after it: they are written after the next top-level object.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values

from shelfops_pipeline.sandbox.shopify.context import Connection, RequestContext
from shelfops_pipeline.sandbox.shopify.cost import CostCalculator, is_connection
from shelfops_pipeline.sandbox.shopify.root import QueryRoot
from shelfops_pipeline.sandbox.shopify.validation import (
    RequestRejected,
    check_document,
    parse_document,
)

MAX_CONNECTIONS = 5
MAX_NESTING = 2


class BulkQueryInvalid(Exception):
    """The bulk query breaks Shopify's rules; `messages` become userErrors on `query`."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class BulkQuery:
    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]


def _is_list(type_: Any) -> bool:
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return isinstance(inner, GraphQLList)


class _Checker:
    def __init__(self, calculator: CostCalculator) -> None:
        self.calculator = calculator
        self.connections = 0
        self.too_deep = False
        self.in_list = False
        self.via_nodes: list[str] = []
        self.without_id: list[str] = []

    def visit(self, type_: GraphQLObjectType, selection: Any, depth: int, in_list: bool) -> None:
        for field in self.calculator.fields_for(type_, selection):
            definition = type_.fields.get(field.name.value)
            if definition is None or field.selection_set is None:
                continue
            named = get_named_type(definition.type)
            if not is_connection(definition.type):
                if isinstance(named, GraphQLObjectType):
                    self.visit(
                        named, field.selection_set, depth, in_list or _is_list(definition.type)
                    )
                continue
            self._connection(type_, field, named, depth, in_list)

    def _connection(
        self,
        parent: GraphQLObjectType,
        field: FieldNode,
        connection: Any,
        depth: int,
        in_list: bool,
    ) -> None:
        self.connections += 1
        self.in_list = self.in_list or in_list
        if depth + 1 > MAX_NESTING:
            self.too_deep = True
        selected = self.calculator.fields_for(connection, field.selection_set)
        if any(f.name.value == "nodes" for f in selected):
            self.via_nodes.append(field.name.value)
        edge_type = get_named_type(connection.fields["edges"].type)
        for edges in (f for f in selected if f.name.value == "edges"):
            for node in self.calculator.fields_for(edge_type, edges.selection_set):
                if node.name.value != "node" or node.selection_set is None:
                    continue
                node_type = get_named_type(edge_type.fields["node"].type)
                if self._has_nested_connection(node_type, node) and not self._selects_id(
                    node_type, node
                ):
                    self.without_id.append(field.name.value)
                self.visit(node_type, node.selection_set, depth + 1, False)

    def _has_nested_connection(self, type_: GraphQLObjectType, node: FieldNode) -> bool:
        return any(
            f.name.value in type_.fields and is_connection(type_.fields[f.name.value].type)
            for f in self.calculator.fields_for(type_, node.selection_set)
        )

    def _selects_id(self, type_: GraphQLObjectType, node: FieldNode) -> bool:
        return any(
            f.name.value == "id" and f.alias is None
            for f in self.calculator.fields_for(type_, node.selection_set)
        )


def _query_root(schema: GraphQLSchema) -> GraphQLObjectType:
    if schema.query_type is None:
        raise ValueError("the schema has no query root")
    return schema.query_type


def plan_bulk_query(schema: GraphQLSchema, text: str) -> BulkQuery:
    """Check `text` as Shopify checks a bulk query; BulkQueryInvalid lists what is wrong."""
    try:
        document: DocumentNode = parse_document(text)
        check_document(schema, document)
    except RequestRejected as rejected:
        messages = [f"Invalid bulk query: {e['message']}" for e in rejected.errors]
        raise BulkQueryInvalid(messages) from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        raise BulkQueryInvalid(["Invalid operation type. Only `query` operations are supported."])
    operation = operations[0]
    calculator = CostCalculator(schema, fragments, {})
    root = _query_root(schema)
    messages = []
    top = calculator.fields_for(root, operation.selection_set)
    if any(f.name.value in ("node", "nodes") for f in top):
        messages.append("Bulk queries cannot contain a top level `node` field.")
    checker = _Checker(calculator)
    checker.visit(root, operation.selection_set, 0, False)
    if checker.connections == 0:
        messages.append("Bulk queries must contain at least one connection.")
    if checker.via_nodes:
        first = checker.via_nodes[0]
        messages.append(
            "All connection fields in a bulk query must select their contents using 'edges' > "
            f"'node', e.g: '{first} {{ edges {{ node {{'. Selecting via 'nodes' is not supported. "
            f"Invalid connection fields: {', '.join(repr(n) for n in checker.via_nodes)}."
        )
    if checker.connections > MAX_CONNECTIONS:
        messages.append(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
    if checker.too_deep:
        messages.append(
            f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_NESTING}."
        )
    if checker.in_list:
        messages.append(
            "Queries that contain a connection field within a list field are not currently supported."
        )
    if checker.without_id:
        messages.append(
            "The parent 'node' field for a nested connection must select the 'id' field without "
            "an alias and must be of 'ID' return type. Connection fields without 'id': "
            f"{', '.join(checker.without_id)}."
        )
    if messages:
        raise BulkQueryInvalid(messages)
    return BulkQuery(schema, operation, fragments)


@dataclass(frozen=True)
class _Call:
    context: RequestContext
    field_name: str


class BulkWalker:
    """Resolves a bulk query over the same objects the GraphQL executor reads."""

    def __init__(self, query: BulkQuery, context: RequestContext, group_objects: bool) -> None:
        self.query = query
        self.context = context
        self.group_objects = group_objects
        self.calculator = CostCalculator(query.schema, query.fragments, {})

    def lines(self) -> Iterator[tuple[dict[str, Any], bool]]:
        """(JSONL object, is a top-level object), in file order."""
        root_type = _query_root(self.query.schema)
        root = QueryRoot(self.context)
        for field in self.calculator.fields_for(root_type, self.query.operation.selection_set):
            definition = root_type.fields[field.name.value]
            if is_connection(definition.type):
                yield from self._top_level(root, root_type, field)

    def _top_level(
        self, root: QueryRoot, root_type: GraphQLObjectType, field: FieldNode
    ) -> Iterator[tuple[dict[str, Any], bool]]:
        deferred: list[dict[str, Any]] = []
        connection = self._resolve(root, root_type, field)
        for node_type, node_field, item in self._nodes(connection, root_type, field):
            record, children = self._record(node_type, node_field, item, None)
            yield record, True
            if self.group_objects:
                yield from ((child, False) for child in children)
                continue
            yield from ((child, False) for child in deferred)
            deferred = children
        yield from ((child, False) for child in deferred)

    def _nodes(
        self, connection: Connection[Any], parent: GraphQLObjectType, field: FieldNode
    ) -> Iterator[tuple[GraphQLObjectType, FieldNode, Any]]:
        connection_type = get_named_type(parent.fields[field.name.value].type)
        edge_type = get_named_type(connection_type.fields["edges"].type)
        node_type = get_named_type(edge_type.fields["node"].type)
        node_fields = [
            node
            for edges in self.calculator.fields_for(connection_type, field.selection_set)
            if edges.name.value == "edges"
            for node in self.calculator.fields_for(edge_type, edges.selection_set)
            if node.name.value == "node"
        ]
        for item in connection.walk():
            for node_field in node_fields:
                yield node_type, node_field, item

    def _record(
        self, type_: GraphQLObjectType, field: FieldNode, item: Any, parent_id: str | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        children: list[dict[str, Any]] = []
        record = self._object(type_, field.selection_set, item, children)
        if parent_id is not None:
            record["__parentId"] = parent_id
        return record, children

    def _object(
        self,
        type_: GraphQLObjectType,
        selection: Any,
        item: Any,
        children: list[dict[str, Any]],
    ) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for field in self.calculator.fields_for(type_, selection):
            name = field.name.value
            key = (field.alias or field.name).value
            if name == "__typename":
                record[key] = type_.name
                continue
            definition = type_.fields[name]
            if is_connection(definition.type):
                parent_id = record.get("id") or getattr(item, "id", None)
                connection = self._resolve(item, type_, field)
                for node_type, node_field, child in self._nodes(connection, type_, field):
                    child_record, grandchildren = self._record(
                        node_type, node_field, child, parent_id
                    )
                    children.append(child_record)
                    children.extend(grandchildren)
                continue
            value = self._resolve(item, type_, field)
            record[key] = self._value(definition.type, field, value, children)
        return record

    def _value(
        self, type_: Any, field: FieldNode, value: Any, children: list[dict[str, Any]]
    ) -> Any:
        named = get_named_type(type_)
        if value is None or is_leaf_type(named):
            return value
        if isinstance(value, list):
            return [self._value(named, field, v, children) for v in value]
        concrete = self.calculator.possible_types(named)
        target = next(
            (t for t in concrete if t.name == getattr(value, "graphql_type", None)), concrete[0]
        )
        return self._object(target, field.selection_set, value, children)

    def _resolve(self, item: Any, type_: GraphQLObjectType, field: FieldNode) -> Any:
        name = field.name.value
        if isinstance(item, dict):
            return item.get(name)
        attribute = getattr(item, name, None)
        if not callable(attribute):
            return attribute
        arguments = get_argument_values(type_.fields[name], field, {})
        return attribute(_Call(self.context, name), **arguments)
