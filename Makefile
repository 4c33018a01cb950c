# Everything a fresh machine needs: `make demo` and `make test` create .venv and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0
DEMO_RUN := runs/demo

.PHONY: install browser demo test demo-data atis benchmark bench-peers bench-cli bench-serve compare-cells clean

install: $(STAMP)

# torch first, pinned: here it is a local CPU wheel; left to the resolver it could be a CUDA build
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/slotfill train configs/demo.yaml --output $(DEMO_RUN)
	$(BIN)/slotfill evaluate $(DEMO_RUN) data/demo/test
	$(BIN)/slotfill predict $(DEMO_RUN) "arrive Taipei on November 2nd" "leave Taipei on November 2nd"

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# headless Chromium and its driver for the web page test (Debian packages; needs root once)
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; \
	else echo "install chromium and chromium-driver (Debian) for the browser test" >&2; fi

demo-data:
	$(PYTHON) scripts/make_demo_data.py data/demo

atis: $(STAMP)
	$(BIN)/slotfill train configs/atis.yaml --output runs/atis
	$(BIN)/slotfill evaluate runs/atis ../shared/data/atis/test

benchmark: $(STAMP)
	$(BIN)/python scripts/benchmark.py

# the peers run in a venv of their own: they are benchmarks, not dependencies
PEERS := .venv-peers
$(PEERS)/.installed:
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet torch==$(TORCH_VERSION) spacy
	touch $@

bench-peers: $(STAMP) $(PEERS)/.installed
	$(BIN)/python scripts/benchmark.py --spacy-python $(PEERS)/bin/python

bench-cli: $(STAMP)
	$(BIN)/python scripts/bench_cli.py runs/atis

bench-serve: $(STAMP)
	$(BIN)/python scripts/bench_serve.py runs/atis --clients 32 --seconds 20

compare-cells: $(STAMP)
	$(BIN)/python scripts/compare_cells.py

clean:
	rm -rf $(VENV) $(PEERS) runs .pytest_cache
