# The documented entry points: make demo, make test, make bench, make lint.
# Each sets up what is missing (virtualenv, packages, Java + ZooKeeper) first.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
ZK_JAR := /usr/share/java/zookeeper.jar

.PHONY: all setup zookeeper test test-fast demo bench lint clean

all: test

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,netifaces]'
	touch $@

setup: $(STAMP) zookeeper

# A ZooKeeper the harness can start: ZOOKEEPER_CLASSPATH / ZOOKEEPER_HOME if
# set, else Debian's package (installed here when we are root with apt).
zookeeper:
	@if [ -n "$$ZOOKEEPER_CLASSPATH$$ZOOKEEPER_HOME" ]; then exit 0; fi; \
	if [ -f $(ZK_JAR) ] && command -v java >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing ZooKeeper and Java from Debian's packages..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper >/dev/null; \
	else \
	  echo "No ZooKeeper found. Install Debian's 'zookeeper' package (apt-get install zookeeper)," >&2; \
	  echo "or set ZOOKEEPER_HOME to an unpacked Apache ZooKeeper release." >&2; exit 1; \
	fi

test: setup
	@start=$$(date +%s); \
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	echo "test suite wall time: $$(( $$(date +%s) - start )) s"; exit $$rc

test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

demo: setup
	$(PY) examples/demo.py

bench: setup
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check aiozkreg tests examples benchmarks
	$(VENV)/bin/ruff format --check aiozkreg tests examples benchmarks
	$(VENV)/bin/mypy --strict aiozkreg

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
