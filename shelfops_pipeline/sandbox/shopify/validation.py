"""Static checks of a GraphQL request, answered with the errors Shopify's server (graphql-ruby) gives.

graphql-core parses and validates; the rules whose wording clients and tests depend on are
replaced by rules that report Shopify's messages, `extensions.code` and `path`
(["query Name", "field", ...]): undefinedField, argumentNotAccepted, missingRequiredArguments,
argumentLiteralsIncompatible (including Shopify's global-id check), undefinedType,
variableNotUsed, variableNotDefined, selectionMismatch, parse errors and INVALID_VARIABLE.
"""

import json
import re
from collections.abc import Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FieldsOnCorrectTypeRule,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    KnownArgumentNamesRule,
    KnownTypeNamesRule,
    NamedTypeNode,
    Node,
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    OperationDefinitionNode,
    ProvidedRequiredArgumentsRule,
    ScalarLeafsRule,
    ValidationRule,
    ValuesOfCorrectTypeRule,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    is_input_type,
    is_leaf_type,
    parse,
    print_ast,
    specified_rules,
    type_from_ast,
    validate,
)
from graphql.pyutils import Undefined
from graphql.utilities import value_from_ast

from shelfops_pipeline.sandbox.shopify.model import parse_gid

JsonError = dict[str, Any]
_PUNCTUATION = {
    "{": "LCURLY", "}": "RCURLY", "(": "LPAREN", ")": "RPAREN", "[": "LBRACKET",
    "]": "RBRACKET", ":": "COLON", "!": "BANG", "$": "VAR_SIGN", "=": "EQUALS",
    "@": "DIR_SIGN", "|": "PIPE", "&": "AMP", "...": "ELLIPSIS",
}  # fmt: skip


class RequestRejected(Exception):
    """The request cannot run; `errors` are Shopify's error objects for it."""

    def __init__(self, errors: list[JsonError]) -> None:
        super().__init__(errors[0]["message"] if errors else "rejected")
        self.errors = errors


def _location(node: Node | None) -> list[dict[str, int]]:
    if node is None or node.loc is None:
        return []
    source_location = node.loc.source.get_location(node.loc.start)
    return [{"line": source_location.line, "column": source_location.column}]


def _path_label(node: Any) -> str | None:
    if isinstance(node, OperationDefinitionNode):
        kind = node.operation.value
        return f"{kind} {node.name.value}" if node.name else kind
    if isinstance(node, FragmentDefinitionNode):
        return f"fragment {node.name.value}"
    if isinstance(node, FieldNode):
        return (node.alias or node.name).value
    if isinstance(node, InlineFragmentNode):
        return f"... on {node.type_condition.name.value}" if node.type_condition else "..."
    return None


def _path(ancestors: Any, *tail: str) -> list[str]:
    labels = [_path_label(node) for node in ancestors]
    return [label for label in labels if label is not None] + list(tail)


class _ShopifyRule(ValidationRule):
    def report_shopify(
        self, message: str, node: Node, path: list[str], extensions: dict[str, Any]
    ) -> None:
        self.report_error(
            GraphQLError(message, node, extensions={"shopify_path": path, **extensions})
        )


class UndefinedFieldRule(_ShopifyRule):
    def enter_field(
        self, node: FieldNode, key: Any, parent: Any, path: Any, ancestors: Any
    ) -> None:
        parent_type = self.context.get_parent_type()
        if parent_type is None or self.context.get_field_def() is not None:
            return
        name = node.name.value
        self.report_shopify(
            f"Field '{name}' doesn't exist on type '{parent_type.name}'",
            node,
            _path(ancestors, (node.alias or node.name).value),
            {"code": "undefinedField", "typeName": parent_type.name, "fieldName": name},
        )


def _field_of(ancestors: Any) -> FieldNode | None:
    return next((a for a in reversed(ancestors) if isinstance(a, FieldNode)), None)


class ArgumentRule(_ShopifyRule):
    """Unknown arguments, and literal values the argument's type does not accept."""

    def enter_argument(
        self, node: ArgumentNode, key: Any, parent: Any, path: Any, ancestors: Any
    ) -> None:
        field = _field_of(ancestors)
        field_def = self.context.get_field_def()
        if field is None or field_def is None:
            return
        field_name = field.name.value
        name = node.name.value
        trail = _path(ancestors, name)
        argument = self.context.get_argument()
        if argument is None:
            self.report_shopify(
                f"Field '{field_name}' doesn't accept argument '{name}'",
                node,
                trail,
                {
                    "code": "argumentNotAccepted",
                    "name": field_name,
                    "typeName": "Field",
                    "argumentName": name,
                },
            )
            return
        if _contains_variable(node.value):
            return
        coerced = value_from_ast(node.value, argument.type)
        if coerced is Undefined:
            self.report_shopify(
                f"Argument '{name}' on Field '{field_name}' has an invalid value "
                f"({print_ast(node.value)}). Expected type '{argument.type}'.",
                field,
                trail,
                {"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": name},
            )
            return
        bad_id = _first_bad_global_id(coerced, argument.type)
        if bad_id is not None:
            self.report_shopify(
                f"Invalid global id '{bad_id}'",
                field,
                trail,
                {"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
            )


def _contains_variable(node: Any) -> bool:
    if isinstance(node, VariableNode):
        return True
    values = getattr(node, "values", None) or [f.value for f in getattr(node, "fields", ()) or ()]
    return any(_contains_variable(v) for v in values)


def _is_id(type_: Any) -> bool:
    return get_named_type(type_).name == "ID"


def _first_bad_global_id(value: Any, type_: Any) -> str | None:
    """The first value of an `ID` input that is not a Shopify global id."""
    if not _is_id(type_) or value is None:
        return None
    for item in value if isinstance(value, list) else [value]:
        if item is not None and parse_gid(str(item)) is None:
            return str(item)
    return None


class MissingArgumentsRule(_ShopifyRule):
    def leave_field(
        self, node: FieldNode, key: Any, parent: Any, path: Any, ancestors: Any
    ) -> None:
        field_def = self.context.get_field_def()
        if field_def is None:
            return
        given = {a.name.value for a in node.arguments or ()}
        missing = [
            name
            for name, argument in field_def.args.items()
            if isinstance(argument.type, GraphQLNonNull)
            and argument.default_value is Undefined
            and name not in given
        ]
        if missing:
            name = node.name.value
            self.report_shopify(
                f"Field '{name}' is missing required arguments: {', '.join(missing)}",
                node,
                _path(ancestors, (node.alias or node.name).value),
                {
                    "code": "missingRequiredArguments",
                    "className": "Field",
                    "name": name,
                    "arguments": ", ".join(missing),
                },
            )


class TypeNamesRule(_ShopifyRule):
    def enter_inline_fragment(
        self, node: InlineFragmentNode, key: Any, parent: Any, path: Any, ancestors: Any
    ) -> None:
        self._check_condition(node, node.type_condition, _path(ancestors, _path_label(node) or ""))

    def enter_fragment_definition(
        self, node: FragmentDefinitionNode, key: Any, parent: Any, path: Any, ancestors: Any
    ) -> None:
        self._check_condition(node, node.type_condition, [f"fragment {node.name.value}"])

    def _check_condition(
        self, node: Node, condition: NamedTypeNode | None, trail: list[str]
    ) -> None:
        if condition is None or self.context.schema.get_type(condition.name.value) is not None:
            return
        name = condition.name.value
        self.report_shopify(
            f"No such type {name}, so it can't be a fragment condition",
            node,
            trail,
            {"code": "undefinedType", "typeName": name},
        )

    def enter_variable_definition(
        self, node: VariableDefinitionNode, key: Any, parent: Any, path: Any, ancestors: Any
    ) -> None:
        named = node.type
        while not isinstance(named, NamedTypeNode):
            named = named.type
        if self.context.schema.get_type(named.name.value) is None:
            variable = node.variable.name.value
            self.report_shopify(
                f"{named.name.value} isn't a defined input type (on ${variable})",
                node,
                _path(ancestors),
                {
                    "code": "variableRequiresValidType",
                    "typeName": named.name.value,
                    "variableName": variable,
                },
            )


class VariableUsageRule(_ShopifyRule):
    """Variables declared but unused, and used but undeclared, per operation."""

    def leave_operation_definition(self, node: OperationDefinitionNode, *args: Any) -> None:
        declared = {d.variable.name.value: d for d in node.variable_definitions or ()}
        used: dict[str, VariableNode] = {}
        for usage in self.context.get_recursive_variable_usages(node):
            # graphql-ruby does not count a variable passed to an argument that does not exist.
            if usage.type is not None:
                used.setdefault(usage.node.name.value, usage.node)
        label = _path_label(node) or "query"
        owner = node.name.value if node.name else f"anonymous {node.operation.value}"
        for name in declared:
            if name not in used:
                self.report_shopify(
                    f"Variable ${name} is declared by {owner} but not used",
                    node,
                    [label],
                    {"code": "variableNotUsed", "variableName": name},
                )
        for name, usage in used.items():
            if name not in declared:
                self.report_shopify(
                    f"Variable ${name} is used by {owner} but not declared",
                    usage,
                    [label],
                    {"code": "variableNotDefined", "variableName": name},
                )


class SelectionRule(_ShopifyRule):
    def enter_field(
        self, node: FieldNode, key: Any, parent: Any, path: Any, ancestors: Any
    ) -> None:
        field_type = self.context.get_type()
        if field_type is None:
            return
        named = get_named_type(field_type)
        name = node.name.value
        trail = _path(ancestors, (node.alias or node.name).value)
        extensions = {"code": "selectionMismatch", "nodeName": f"field '{name}'"}
        if is_leaf_type(named) and node.selection_set:
            chosen = [
                s.name.value for s in node.selection_set.selections if isinstance(s, FieldNode)
            ]
            self.report_shopify(
                f"Selections can't be made on scalars (field '{name}' returns {named.name} "
                f"but has selections {json.dumps(chosen)})",
                node,
                trail,
                {**extensions, "typeName": named.name},
            )
        elif not is_leaf_type(named) and not node.selection_set:
            self.report_shopify(
                f"Field must have selections (field '{name}' returns {named.name} but has no "
                f"selections. Did you mean '{name} {{ ... }}'?)",
                node,
                trail,
                {**extensions, "typeName": named.name},
            )


_REPLACED = (
    FieldsOnCorrectTypeRule,
    KnownArgumentNamesRule,
    ProvidedRequiredArgumentsRule,
    ValuesOfCorrectTypeRule,
    KnownTypeNamesRule,
    NoUnusedVariablesRule,
    NoUndefinedVariablesRule,
    ScalarLeafsRule,
)
SHOPIFY_RULES = (
    *(rule for rule in specified_rules if rule not in _REPLACED),
    UndefinedFieldRule,
    ArgumentRule,
    MissingArgumentsRule,
    TypeNamesRule,
    VariableUsageRule,
    SelectionRule,
)


def shopify_error(error: GraphQLError) -> JsonError:
    """graphql-core's error as Shopify writes it."""
    extensions = dict(error.extensions or {})
    path = extensions.pop("shopify_path", None)
    body: JsonError = {"message": error.message}
    locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]
    if locations:
        body["locations"] = locations
    if path is not None:
        body["path"] = path
    elif error.path:
        body["path"] = list(error.path)
    if extensions:
        body["extensions"] = extensions
    return body


def parse_document(query: str) -> DocumentNode:
    """Parse, or reject with graphql-ruby's parse error wording."""
    try:
        return parse(query)
    except GraphQLSyntaxError as error:
        location = error.locations[0] if error.locations else None
        token = _unexpected_token(query, error.positions[0] if error.positions else len(query))
        where = f" at [{location.line}, {location.column}]" if location else ""
        message = (
            "Unexpected end of document" if token is None else f"Parse error on {token}{where}"
        )
        body: JsonError = {"message": message}
        if location:
            body["locations"] = [{"line": location.line, "column": location.column}]
        raise RequestRejected([body]) from error


def _unexpected_token(query: str, position: int) -> str | None:
    rest = query[position:]
    if not rest.strip():
        return None
    if rest.startswith("..."):
        return '"..." (ELLIPSIS)'
    if rest[0] in _PUNCTUATION:
        return f'"{rest[0]}" ({_PUNCTUATION[rest[0]]})'
    if rest[0] == '"':
        return f"{rest.split(chr(10))[0]} (STRING)"
    word = re.match(r"-?[\w.]+", rest)
    text = word.group(0) if word else rest[0]
    kind = (
        "INT"
        if re.fullmatch(r"-?\d+", text)
        else "FLOAT"
        if re.fullmatch(r"-?[\d.]+", text)
        else "IDENTIFIER"
    )
    return f'"{text}" ({kind})'


def check_document(schema: GraphQLSchema, document: DocumentNode) -> None:
    errors = validate(schema, document, SHOPIFY_RULES)
    if errors:
        raise RequestRejected([shopify_error(e) for e in errors])


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        chosen = next((o for o in operations if o.name and o.name.value == name), None)
        if chosen is None:
            raise RequestRejected([{"message": f'No operation named "{name}"'}])
        return chosen
    if len(operations) != 1:
        raise RequestRejected(
            [{"message": "An operation name is required when sending multiple operations."}]
        )
    return operations[0]


def _problems(value: Any, type_: GraphQLInputType, path: list[Any]) -> list[dict[str, Any]]:
    if isinstance(type_, GraphQLNonNull):
        if value is None:
            return [{"path": path, "explanation": "Expected value to not be null"}]
        return _problems(value, type_.of_type, path)
    if value is None:
        return []
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return [
            p for i, item in enumerate(items) for p in _problems(item, type_.of_type, [*path, i])
        ]
    if isinstance(type_, GraphQLEnumType):
        if value in type_.values:
            return []
        names = ", ".join(type_.values)
        return [
            {"path": path, "explanation": f"Expected {json.dumps(value)} to be one of: {names}"}
        ]
    if isinstance(type_, GraphQLInputObjectType):
        return _input_object_problems(value, type_, path)
    if isinstance(type_, GraphQLScalarType):
        return _scalar_problems(value, type_, path)
    return []


def _input_object_problems(
    value: Any, type_: GraphQLInputObjectType, path: list[Any]
) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return [
            {"path": path, "explanation": f"Expected {json.dumps(value)} to be a key-value object"}
        ]
    problems = [
        {"path": [*path, key], "explanation": f"Field is not defined on {type_.name}"}
        for key in value
        if key not in type_.fields
    ]
    for name, field in type_.fields.items():
        problems += _problems(value.get(name), field.type, [*path, name])
    return problems


def _scalar_problems(value: Any, type_: GraphQLScalarType, path: list[Any]) -> list[dict[str, Any]]:
    if type_.name == "ID":
        if isinstance(value, str) and parse_gid(value) is not None:
            return []
        message = f"Invalid global id '{value}'"
        return [{"path": path, "explanation": message, "message": message}]
    try:
        type_.parse_value(value)
    except (GraphQLError, TypeError, ValueError):
        return [
            {
                "path": path,
                "explanation": f"Could not coerce value {json.dumps(value)} to {type_.name}",
            }
        ]
    return []


def check_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> None:
    """INVALID_VARIABLE errors for values that do not fit their declared types."""
    errors = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        type_ = type_from_ast(schema, definition.type)
        if type_ is None or not is_input_type(type_):
            continue
        if name not in variables and definition.default_value is not None:
            continue
        value = variables.get(name)
        problems = _problems(value, type_, [])
        if not problems:
            continue
        detail = ", ".join(
            f"{'.'.join(str(p) for p in problem['path'])} ({problem['explanation']})"
            for problem in problems
            if problem["path"]
        )
        message = (
            f"Variable ${name} of type {print_ast(definition.type)} was provided invalid value"
        )
        errors.append(
            {
                "message": f"{message} for {detail}" if detail else message,
                "locations": _location(definition),
                "extensions": {"code": "INVALID_VARIABLE", "value": value, "problems": problems},
            }
        )
    if errors:
        raise RequestRejected(errors)
