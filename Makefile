# Set-up, run, test and benchmark. Needs only python3 (3.11+) on the machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test bench lint sample clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## make run: create .venv, import the sample log if the store is empty, start the dashboard
run: $(VENV)/.installed
	$(PY) -m analysis ensure-sample
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

## make test: the same set-up plus dev tools, then lint and the whole test suite
test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m pytest

## make bench: generate 100k/1M/5M-event logs, compare with pm4py, time the dashboard (bench/RESULTS.md)
bench: $(VENV)/.dev-installed
	$(PY) bench/run.py
	$(PY) bench/app_bench.py
	$(PY) bench/redesign_bench.py
	$(PY) bench/why.py --size 1m --runs 5

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
