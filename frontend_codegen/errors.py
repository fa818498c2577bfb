"""The one error of the generator: what went wrong, said in one line."""

from __future__ import annotations


class CodegenError(Exception):
    """The client cannot be generated: a bad schema source or a name clash.

    The CLI prints the message as ``error: ...`` and exits 1.
    """
