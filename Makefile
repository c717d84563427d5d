# Two entry points: `make run` (dashboard on the embedded default dataset) and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean

# requirements.txt: the pinned set; then the package itself, editable (`import deepad` and the `deepad`
# command work from any folder and follow the checkout's files)
$(STAMP): requirements.txt pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# make run ARGS="--server.port 8600": options after serve.py go to `streamlit run`
run: $(STAMP)
	$(BIN)/python serve.py $(ARGS)

test: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m pytest -q

bench: $(STAMP)
	PYTHONPATH=. $(BIN)/python bench/train_speed.py

clean:
	rm -rf $(VENV) .pytest_cache build dist
