"""The benchmark workload's data, shared by W1, W2 and the peer runners:
the ``Item`` model, its indexed fields and the deterministic item stream.

Depends on msgspec only, so the peers' venvs import it too. Draws come from
one ``random.Random(42)`` per run, in this order per item: category, price,
stock, tags, so every side stores exactly the same items.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import msgspec

HERE = Path(__file__).resolve().parent
CATEGORIES = [f"cat-{i}" for i in range(10)]
TAGS = ["red", "green", "blue", "small", "large", "sale", "new", "eco"]
DESCRIPTION = ("lorem ipsum dolor sit amet " * 8)[:200]
INDEXED = ["name", "category", "price", "stock"]


class Item(msgspec.Struct):
    name: str
    category: str
    price: float
    stock: int
    tags: list[str]
    description: str


def make_item(rng: random.Random, i: int) -> Item:
    return Item(
        name=f"item-{i}",
        category=rng.choice(CATEGORIES),
        price=round(rng.uniform(1, 1000), 2),
        stock=rng.randint(0, 500),
        tags=rng.sample(TAGS, 3),
        description=DESCRIPTION,
    )


def specstar_python() -> str:
    """The specstar venv's python, made by peers/setup_specstar.sh if missing."""
    done = subprocess.run(
        ["bash", str(HERE / "peers" / "setup_specstar.sh")],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]
