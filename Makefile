# moldojo's entry points. `make demo` and `make test` install into .venv first when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# The constraints file pins torch to 2.13.0 so that no install pulls the multi-GB CUDA wheels.
# Elsewhere than this machine, point pip at PyTorch's CPU index if PyPI's default build is CUDA:
#   make install PIP_EXTRA="--extra-index-url https://download.pytorch.org/whl/cpu"
PIP_EXTRA ?=
STAMP  := $(VENV)/.installed

.PHONY: install test demo bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt $(PIP_EXTRA) -e '.[dev,qm9]'
	# The MOSES splits ship inside molsets' wheel; its own dependencies are not needed.
	$(BIN)/python -m pip install --quiet -c constraints.txt --no-deps molsets==0.3.1
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/python -m pytest -n 2

# The main job: 1,000 molecules from the model shipped in the package (trained on QM9), the MOSES
# suite against QM9's test split and training set (statistics computed once, then cached), a grid.
demo: $(STAMP)
	@mkdir -p out/demo
	$(BIN)/moldojo sample -n 1000 --seed 0 -o out/demo/samples.smi --grid out/demo/grid.png
	$(BIN)/moldojo evaluate out/demo/samples.smi --train moses-mini:train --json out/demo/metrics.json
	@echo "samples: out/demo/samples.smi, metrics: out/demo/metrics.json, grid: out/demo/grid.png"

bench: $(STAMP)
	$(BIN)/python benchmarks/roundtrip.py
	$(BIN)/python benchmarks/metrics.py $(if $(REFERENCE_PYTHON),--reference-python $(REFERENCE_PYTHON))
	$(BIN)/python benchmarks/two_step.py src/moldojo/pretrained/two_step.pt --data qm9
	$(BIN)/python benchmarks/hier.py src/moldojo/pretrained/hier.pt --test moses-mini:test --train moses-mini:train --reconstruct 1000 --samples 10000 --moses
	$(BIN)/python benchmarks/search.py smoothness

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
