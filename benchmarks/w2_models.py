"""Workload W2's models: W1's Item, registered exactly as ``benchmarks/w1.py`` does
by default (indexed name, category, price, stock; composite index
``(category, price)`` for "category = X order by price").

    specql serve benchmarks/w2_models.py --data-dir DIR --port P
    specql schema benchmarks/w2_models.py

``specql serve`` puts this file's directory on ``sys.path``, so the Item of
``workload.py`` next to it is importable.
"""

from __future__ import annotations

from workload import INDEXED, Item

from app import Registry

__all__ = ["Item", "registry"]

registry = Registry()
registry.add_model(
    Item,
    indexed=INDEXED,
    indexes=[("category", "price")],
)
