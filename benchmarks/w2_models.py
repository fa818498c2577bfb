"""Workload W2's models: W1's Item, registered exactly as ``benchmarks/w1.py`` does
by default (indexed name, category, price, stock; composite index
``(category, price)`` for "category = X order by price").

    specql serve benchmarks/w2_models.py --data-dir DIR --port P
    specql schema benchmarks/w2_models.py

``specql serve`` puts this file's directory on ``sys.path``, so W1's Item
(and its data generation, ``make_item``) is imported from ``w1.py`` next to it.
"""

from __future__ import annotations

from w1 import CATEGORIES, Item, make_item

from app import Registry

__all__ = ["CATEGORIES", "Item", "make_item", "registry"]

registry = Registry()
registry.add_model(
    Item,
    indexed=["name", "category", "price", "stock"],
    indexes=[("category", "price")],
)
