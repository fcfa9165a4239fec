"""The Admin API schema the sandbox serves, built once from `schema.graphql` (package data)."""

import functools
from importlib import resources
from typing import Any

from graphql import (
    GraphQLAbstractType,
    GraphQLInterfaceType,
    GraphQLResolveInfo,
    GraphQLSchema,
    build_schema,
)


def _resolve_type(value: Any, info: GraphQLResolveInfo, abstract: GraphQLAbstractType) -> str:
    return str(value.graphql_type)


@functools.cache
def admin_schema() -> GraphQLSchema:
    """Shopify's Admin schema subset; the default resolvers read the objects of `objects.py`."""
    text = resources.files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8")
    schema = build_schema(text)
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLInterfaceType):
            type_.resolve_type = _resolve_type
    return schema
