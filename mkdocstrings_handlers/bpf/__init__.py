"""The mkdocstrings handler ``bpf``: a shim to :mod:`kptrdoc.handler`, where it lives.

mkdocstrings imports handlers as ``mkdocstrings_handlers.<name>`` and calls
their ``get_handler``.
"""

from kptrdoc.handler import BpfHandler, get_handler

__all__ = ["BpfHandler", "get_handler"]
