"""Update one Doc in a data directory shared with the test process.

    python doc_updater.py DATA_DIR REVISIONS RESOURCE_ID TITLE

Prints ``UPDATED <revision id>`` once the update has returned, then exits.
"""

import asyncio
import sys

from shared import Doc, open_store, say


async def main(data_dir: str, revisions: str, resource_id: str, title: str) -> None:
    manager = await open_store(data_dir, revisions)
    try:
        current = await manager.get("doc", resource_id)
        data = Doc(title, current.data.n + 1, writer="doc_updater")
        say("UPDATED", (await manager.update("doc", resource_id, data)).revision_id)
    finally:
        await manager.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
