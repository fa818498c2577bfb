"""The README's Python snippets run as written (on a temporary data dir)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


async def test_readme_snippets_run(tmp_path, monkeypatch):
    models, usage = _python_blocks()[:2]
    monkeypatch.chdir(tmp_path)  # registry.open() uses ./.specql
    namespace: dict[str, object] = {}
    exec(compile(models, "README:models", "exec", dont_inherit=True), namespace)
    body = "async def _usage():\n" + textwrap.indent(usage, "    ") + "\n    return locals()\n"
    exec(compile(body, "README:usage", "exec", dont_inherit=True), namespace)
    result = await namespace["_usage"]()  # type: ignore[operator]
    page = result["page"]
    assert [r.data.title for r in page.items] == ["Hello!"]
    assert page.items[0].data.price == 12
    assert len(result["history"].items) == 3
    assert (tmp_path / ".specql" / "specql.db").exists()
