# The two commands README promises: `make tutorial` and `make test`. Both build on `make setup`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PARAMS ?=
PYTEST_ARGS ?=

.PHONY: setup lint test tutorial lab bench notebook-outputs studio-kernel container-check lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@echo "==> creating $(VENV) with every package pinned (requirements.lock)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The linter and formatter first (seconds), then the suite. Three workers on two cores: most tests wait on
# jobs and servers, so a third keeps both cores busy.
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 3 $(PYTEST_ARGS)

# Fix what the linter can and reformat the tree.
lint: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

tutorial: setup
	$(BIN)/python -m helpers.tutorial_runner $(PARAMS)

# JupyterLab's port and any other option of `jupyter lab`: make lab LAB_PORT=8890 LAB_ARGS="--no-browser"
LAB_PORT ?= 8888
LAB_ARGS ?=
lab: setup
	$(BIN)/python -m helpers.lab --port=$(LAB_PORT) $(LAB_ARGS)

# Re-run the notebooks with their defaults on a fresh local_aws and commit what they show.
notebook-outputs: setup
	$(BIN)/python -m helpers.notebook_outputs

# SageMaker Studio: a kernel of its own under the home directory, leaving the image's environment alone.
KERNEL_VENV ?= $(HOME)/.venvs/sagemaker-pipelines-tutorial
studio-kernel:
	$(PYTHON) -m venv $(KERNEL_VENV)
	$(KERNEL_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(KERNEL_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(KERNEL_VENV)/bin/python -m ipykernel install --user --name sagemaker-pipelines-tutorial \
		--display-name "Python (SageMaker Pipelines tutorial)"

# The step scripts and inference.py under the scikit-learn image's libraries (1.9-0; numpy and scipy at
# their newest for Python 3.11): slower than `make test`, so apart from it. See step_scripts/README.md.
CONTAINER_VENV := .venv-sklearn-1.9-0
container-check: setup
	test -x $(CONTAINER_VENV)/bin/python || $(PYTHON) -m venv $(CONTAINER_VENV)
	$(CONTAINER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check scikit-learn==1.9.0 \
		pandas==2.2.3 numpy==2.4.6 scipy==1.17.1 boto3==1.43.46
	STEP_SCRIPTS_PYTHON=$(CURDIR)/$(CONTAINER_VENV)/bin/python $(BIN)/python -m pytest -n 2 tests/step_scripts

bench: setup
	$(BIN)/python bench/run_all.py

# Re-resolve the pinned tree after editing pyproject.toml's dependencies.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	.lockenv/bin/python -m pip install --quiet -e ".[test]"
	.lockenv/bin/python -m pip freeze --exclude-editable --all | grep -v '^pip==' > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) $(CONTAINER_VENV) runs .pytest_cache
