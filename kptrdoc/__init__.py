"""kptrdoc: a reference site for libbpf's eBPF-side macros, generated from evidence.

Importing the package is cheap and needs only the standard library, so that
``python3 -m kptrdoc.toolchain`` can run before the virtual environment exists.
"""

__version__ = "0.1.0"
