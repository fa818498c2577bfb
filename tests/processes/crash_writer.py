"""A writer that never stops on its own: creates, batch creates, updates and
patches ``doc`` resources on a disk store until it is killed.

    python crash_writer.py DATA_DIR {inline|files} TAG SEED [TASKS]

With TASKS > 1, that many tasks write concurrently (on SQLite their writes
share transactions: group commit), each on resources of its own, so each
knows what the current data of its resources is.

Prints ``READY`` once the store is open, then one line per write, written
only after the write call returned (an acknowledgement)::

    C <resource_id> <revision_id> <n>     create (also one per item of a batch)
    U <resource_id> <revision_id> <n>     update
    P <resource_id> <revision_id> <n>     patch
"""

import asyncio
import random
import sys

from shared import WORDS, Doc, open_store, say

from app import ResourceManager


def bodies(rng: random.Random) -> list[str]:
    """50 B to ~20 KB texts, made once: bigger payloads make each write (file
    or row) take longer, so the kill has more chances to land inside one."""
    return [
        "".join(rng.choice("abcdefghij ") for _ in range(size))
        for size in (50, 500, 5000, 20000)
        for _ in range(3)
    ]


async def main(data_dir: str, revisions: str, tag: str, seed: int, tasks: int) -> None:
    rng = random.Random(seed)
    texts = bodies(rng)
    m = await open_store(data_dir, revisions)
    taken: dict[str, int] = {}  # resource id -> n of its current data
    after = None
    while True:  # take over the docs of earlier rounds, as they are now
        page = await m.search("doc", limit=500, after=after)
        taken.update({r.id: r.data.n for r in page.items})
        if page.next_cursor is None:
            break
        after = page.next_cursor
    say("READY", len(taken))
    shares: list[dict[str, int]] = [{} for _ in range(tasks)]
    for i, (rid, n) in enumerate(taken.items()):
        shares[i % tasks][rid] = n
    await asyncio.gather(
        *(
            write(m, texts, random.Random(rng.random()), f"{tag}.{k}", shares[k])
            for k in range(tasks)
        )
    )
    say("DONE")
    await m.close()


async def write(
    m: ResourceManager, texts: list[str], rng: random.Random, tag: str, current: dict[str, int]
) -> None:
    """Write forever on the resources of ``current`` (resource id -> n of its
    current data), and on the ones this task creates."""

    def body(rng: random.Random) -> str:
        return rng.choice(texts) + str(rng.random())

    made = 0
    for _ in range(1_000_000):
        roll = rng.random()
        if roll < 0.25 or not current:
            made += 1
            doc = Doc(f"{tag}-{made}", 0, tag, [rng.choice(WORDS)], body(rng))
            r = await m.create("doc", doc)
            current[r.id] = 0
            say("C", r.id, r.revision_id, 0)
        elif roll < 0.35:
            docs = []
            for _ in range(5):
                made += 1
                docs.append(Doc(f"{tag}-{made}", 0, tag, [rng.choice(WORDS)], body(rng)))
            for r in await m.create_many("doc", docs):
                current[r.id] = 0
                say("C", r.id, r.revision_id, 0)
        elif roll < 0.85:
            rid = rng.choice(list(current))
            n = current[rid] + 1
            doc = Doc(f"{tag}-u{n}", n, tag, rng.sample(WORDS, rng.randint(0, 3)), body(rng))
            r = await m.update("doc", rid, doc)
            assert r.changed and r.resource.data.n == n
            current[rid] = n
            say("U", rid, r.revision_id, n)
        else:
            rid = rng.choice(list(current))
            n = current[rid] + 1
            patch = [
                {"op": "replace", "path": "/n", "value": n},
                {"op": "add", "path": "/tags/-", "value": rng.choice(WORDS)},
            ]
            r = await m.patch("doc", rid, patch)
            assert r.changed and r.resource.data.n == n
            current[rid] = n
            say("P", rid, r.revision_id, n)


if __name__ == "__main__":
    tasks = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), tasks))
