"""Money bags and tax lines of an order, in shop and presentment currencies."""

from typing import Any

from shelfops_pipeline.sandbox.shopify.model import ShopifyOrder, graphql_amount

_TAX_TITLES = {"US": "Sales Tax", "AU": "GST", "CA": "HST", "GB": "VAT", "JP": "JCT"}


def money_bag(order: ShopifyOrder, minor: int) -> dict[str, Any]:
    money = order.money(minor)
    return {
        "shopMoney": {
            "amount": graphql_amount(money.shop_amount),
            "currencyCode": money.shop_currency,
        },
        "presentmentMoney": {
            "amount": graphql_amount(money.presentment_amount),
            "currencyCode": money.presentment_currency,
        },
    }


def money_v2(order: ShopifyOrder, minor: int) -> dict[str, Any]:
    """A `MoneyV2` in the presentment currency, typed for the `PricingValue` union."""
    bag = money_bag(order, minor)["presentmentMoney"]
    return {"graphql_type": "MoneyV2", **bag}


def tax_line(order: ShopifyOrder, minor: int) -> dict[str, Any]:
    rate = order.shop.tax_percent / 100
    return {
        "title": _TAX_TITLES.get(order.shop.country, "Tax"),
        "rate": float(rate),
        "ratePercentage": float(order.shop.tax_percent),
        "priceSet": money_bag(order, minor),
        "channelLiable": False,
        "source": "Shopify",
    }
