"""Each page's example as a project a reader builds and runs with stock tools.

- :mod:`kptrdoc.project.listing`: a sample as a user would write it, without the
  harness annotations of ``kptrdoc.h`` (and with the line numbers of the real sample);
- :mod:`kptrdoc.project.spec`: what a download holds, read from the object model: the
  example files, their programs, the trigger and the values each run sets and checks;
- :mod:`kptrdoc.project.render`: the files (``Makefile``, a C loader per example file
  on its ``bpftool gen skeleton`` skeleton, ``README.md``), from templates, and the
  ``.tar.gz``.
"""
