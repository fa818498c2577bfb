"""One of several processes updating the same ``counter`` resources.

    python counter_worker.py DATA_DIR {inline|files} {cas|plain} TAG CYCLES ID[,ID...]

Prints ``READY`` once the store is open and waits for a line on stdin, so
that all workers start together. Then, CYCLES times for each resource id:

- ``cas``: read, add 1 to ``value``, update with ``expected_revision_id`` set
  to the revision read; on RevisionConflictError read again and retry;
- ``plain``: update ``note`` to a value unique to this worker and cycle,
  without an expected revision.

After each update returns: ``A <resource_id> <revision_id> <value|note>``.
At the end: ``END <conflicts>`` (how many cas attempts lost a race).
"""

import asyncio
import sys

from shared import Counter, open_store, say

from app import ConflictError, RevisionConflictError


async def main(
    data_dir: str, revisions: str, mode: str, tag: str, cycles: int, ids: list[str]
) -> None:
    m = await open_store(data_dir, revisions)
    say("READY")
    await asyncio.to_thread(sys.stdin.readline)
    conflicts = 0
    for cycle in range(cycles):
        for rid in ids:
            if mode == "cas":
                r = None  # set by the update that wins; mypy cannot see the loop ends there
                while True:
                    current = await m.get("counter", rid)
                    new = Counter(current.data.name, current.data.value + 1, current.data.note)
                    try:
                        r = await m.update(
                            "counter", rid, new, expected_revision_id=current.revision_id
                        )
                    except RevisionConflictError as exc:
                        assert isinstance(exc, ConflictError) and exc.code == "CONFLICT"
                        conflicts += 1
                        continue
                    break
                assert r is not None and r.changed
                say("A", rid, r.revision_id, new.value)
            else:
                current = await m.get("counter", rid)
                note = f"{tag}-{cycle}"
                r = await m.update("counter", rid, Counter(current.data.name, 0, note))
                assert r.changed
                say("A", rid, r.revision_id, note)
    say("END", conflicts)
    await m.close()


if __name__ == "__main__":
    data_dir, revisions, mode, tag, cycles, ids = sys.argv[1:7]
    asyncio.run(main(data_dir, revisions, mode, tag, int(cycles), ids.split(",")))
