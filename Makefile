# kptrdoc — every target is idempotent: it installs or rebuilds only what is missing.
#
#   make site    set up, then build the site into site/ (the main job)
#   make serve   set up, then serve the site on http://127.0.0.1:8000/kptrdoc/ with live reload
#   make test    set up, then run every test (pytest tests samples, strict site build, browser)
#   make bench   the benchmarks, figures for docs/performance.md
#   make matrix  every sample on the recorded Debian kernels (QEMU) and the host, checked
#                against the committed record (samples/matrix.lock.json)
#   make record  re-record: the newest kernel of each suite, a per-sample diff
#   make fuzz    the BTF parser fuzz tests with many more examples

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := site

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kptrdoc-installed
export PYTHONDONTWRITEBYTECODE := 1
# mkdocs-material prints a banner about a future MkDocs on every build
export NO_MKDOCS_2_WARNING := 1
export DISABLE_MKDOCS_2_WARNING := true

# Debian packages the build and the tests need (same names on Debian 12 and 13).
DEB_PACKAGES := clang-19 llvm-19 libclang1-19 libelf-dev zlib1g-dev pkg-config make gcc libc6-dev \
	bpftool pahole chromium qemu-system-x86 busybox-static zstd xz-utils \
	python3 python3-venv ca-certificates

.PHONY: setup system-packages toolchain site serve test bench matrix record fuzz lint clean

setup: system-packages $(STAMP) toolchain

system-packages:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "kptrdoc setup: installing Debian packages:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then \
			echo "kptrdoc setup: missing Debian packages ($$missing): run 'make setup' as root or 'sudo apt-get install $$missing'" >&2; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		log=$$(mktemp); \
		if ! { apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; } >"$$log" 2>&1; then \
			reason=$$(grep -E '^(E|Err):' "$$log" | head -n1); \
			echo "kptrdoc setup: could not install $$missing: $${reason:-see apt-get output} (is the Debian archive reachable?)" >&2; \
			rm -f "$$log"; exit 1; fi; \
		rm -f "$$log"; \
	fi

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "kptrdoc setup: installing kptrdoc and its Python dependencies into $(VENV)"
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

toolchain: $(STAMP)
	@$(PY) -m kptrdoc.toolchain setup
	@$(VENV)/bin/kptrdoc doctor >/dev/null || $(VENV)/bin/kptrdoc doctor
	@$(PY) -m kptrdoc.matrix --fetch-only >/dev/null

# Every page's Kernels section comes from the committed record: the site boots no kernel.
# 'make test' (make matrix) proves the record again on the pinned kernels.
site: setup
	$(VENV)/bin/mkdocs build --strict --site-dir site

serve: setup
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

# tests/site builds the site with --strict and drives Chromium against it.
test: setup matrix
	$(VENV)/bin/ruff check kptrdoc mkdocstrings_handlers tests docs
	$(VENV)/bin/pytest -n auto tests samples

bench: setup
	$(PY) -m kptrdoc.bench --write docs/performance.md

matrix: setup
	$(PY) -m kptrdoc.matrix

record: setup
	$(PY) -m kptrdoc.matrix --record

fuzz: setup
	KPTRDOC_FUZZ_EXAMPLES=20000 $(VENV)/bin/pytest tests/btf -k fuzz -q

lint: setup
	$(VENV)/bin/ruff check kptrdoc mkdocstrings_handlers tests docs
	$(VENV)/bin/ruff format --check kptrdoc mkdocstrings_handlers tests docs

clean:
	rm -rf site .pytest_cache .ruff_cache
