"""The Admin API schema the sandbox serves, built once from `schema.graphql` (package data)."""

import functools
from importlib import resources
from typing import Any

from graphql import (
    GraphQLAbstractType,
    GraphQLInterfaceType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
)


def _resolve_type(value: Any, info: GraphQLResolveInfo, abstract: GraphQLAbstractType) -> str:
    if isinstance(value, dict):
        return str(value["graphql_type"])
    return str(value.graphql_type)


@functools.cache
def admin_schema() -> GraphQLSchema:
    """Shopify's Admin schema subset; the default resolvers read the `*_objects.py` objects."""
    text = resources.files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8")
    schema = build_schema(text)
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
            type_.resolve_type = _resolve_type
    return schema
