# Fresh machine with Python 3.11: `make run` sets up and ingests the bundled corpus;
# `make test` sets up and runs lint and the test suite.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export STUDYKB_DATA ?= kb_data

.PHONY: setup run test lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	# torch first, pinned: the CPU build on this disk (an unpinned torch pulls a multi-GB CUDA build)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/kb model-build
	$(BIN)/kb ingest corpus --prune
	@echo
	@echo "知识库已就绪。检索示例："
	@echo "  $(BIN)/kb search \"低保怎么申请\""
	@echo "  $(BIN)/kb ask \"离婚要带什么材料\""
	@echo "  $(BIN)/kb search \"社会救助暂行办法第十一条\""

lint: setup
	$(BIN)/ruff check kb ingest tests scripts bench

test: lint
	$(BIN)/pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) kb_data
