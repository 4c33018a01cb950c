# Everything a fresh machine needs: `make demo` and `make test` create .venv and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0
DEMO_RUN := runs/demo

.PHONY: install demo test demo-data atis benchmark clean

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

test: $(STAMP)
	$(BIN)/python -m pytest -q

demo-data:
	$(PYTHON) scripts/make_demo_data.py data/demo

atis: $(STAMP)
	$(BIN)/slotfill train configs/atis.yaml --output runs/atis
	$(BIN)/slotfill evaluate runs/atis ../shared/data/atis/test

benchmark: $(STAMP)
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf $(VENV) runs .pytest_cache
