"""One of several processes editing the same draft ``counter`` in place.

    python draft_worker.py SETTINGS_JSON {cas|plain} TAG CYCLES RESOURCE_ID

SETTINGS_JSON holds the keyword arguments of ``Settings``. Prints ``READY``
once the store is open and waits for a line on stdin, so that all workers
start together. Then CYCLES times:

- ``cas``: read the draft (its meta carries its data hash), add 1 to ``value``, modify with
  ``expected_data_hash``; on DraftConflictError read again and retry;
- ``plain``: modify ``note`` to a value unique to this worker and cycle,
  without expectations.

After each modify returns: ``A <value|note>``. At the end: ``END <conflicts>``.
"""

import asyncio
import json
import sys

from shared import Counter, make_registry, say

from app import DraftConflictError, Settings


async def main(settings: str, mode: str, tag: str, cycles: int, rid: str) -> None:
    m = await make_registry().open(Settings(**json.loads(settings)))
    say("READY")
    await asyncio.to_thread(sys.stdin.readline)
    conflicts = 0
    for cycle in range(cycles):
        if mode == "cas":
            r = None
            while True:
                current = await m.get("counter", rid)  # the hash comes with the data
                read = current.meta.data_hash
                new = Counter(current.data.name, current.data.value + 1, current.data.note)
                try:
                    r = await m.modify("counter", rid, new, expected_data_hash=read)
                except DraftConflictError as exc:
                    assert exc.code == "CONFLICT" and exc.expected == read
                    conflicts += 1
                    continue
                break
            assert r is not None and r.changed
            say("A", new.value)
        else:
            note = f"{tag}-{cycle}"
            r = await m.modify("counter", rid, Counter("c", 0, note))
            assert r.changed
            say("A", note)
    say("END", conflicts)
    await m.close()


if __name__ == "__main__":
    settings, mode, tag, cycles, rid = sys.argv[1:6]
    asyncio.run(main(settings, mode, tag, int(cycles), rid))
