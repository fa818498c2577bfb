"""Writes the generated files: the generator's only file-system I/O."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from frontend_codegen import OutputFile
from frontend_codegen.errors import CodegenError


def write(files: Sequence[OutputFile], out: Path) -> None:
    """Writes each file under ``out`` (created if missing), with ``\\n`` line ends.

    Raises:
        CodegenError: ``out`` cannot be created or written.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        for file in files:
            (out / file.path).write_text(file.text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise CodegenError(f"cannot write to {out}: {exc.strerror or exc}") from exc
