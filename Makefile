# Fresh machine with Python 3.11: `make run` sets up and ingests the bundled corpus;
# `make test` sets up and runs lint and the test suite.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export STUDYKB_DATA ?= kb_data
PORT ?= 8501
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test test-fast lint clean

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
	@echo "知识库已就绪。命令行示例：$(BIN)/kb search \"低保怎么申请\""
	@echo "浏览器界面：http://localhost:$(PORT) （Ctrl+C 停止）"
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address localhost

lint: setup
	$(BIN)/ruff check kb ingest webapp tests scripts bench app.py

# The browser test drives Debian's Chromium (never a downloaded browser); the font draws Chinese.
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei

test: lint $(CHROMIUM)
	$(BIN)/pytest -q -p no:cacheprovider

# The inner loop: lint and the tests that need neither the default model, a browser, a server process
# nor scans (the `slow` marker, set in tests/conftest.py), in under two minutes.
test-fast: lint
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow"

clean:
	rm -rf $(VENV) kb_data
