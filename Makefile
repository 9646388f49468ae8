# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit constraints clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mlfunc needs Python 3.11 or newer; set PYTHON=python3.11")'
	@command -v java >/dev/null || { echo "mlfunc needs Java 17 or newer for Spark: install a JDK (apt-get install openjdk-17-jre-headless)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/mlfunc demo

test: install lint typecheck
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests

typecheck: install
	$(BIN)/mypy

# The fast tests only: no Spark, no subprocesses.
unit: install
	$(BIN)/pytest -m "not slow"

constraints: install
	( echo "# Exact versions for a reproducible install: pip install -c constraints.txt -e '.[dev]'"; \
	  echo "# Regenerate with: make constraints"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v -i '^mlfunc' ) > constraints.txt

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
