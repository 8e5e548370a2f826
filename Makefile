# The documented entry points: make demo, make test, make bench, make lint.
# Each sets up what is missing (virtualenv, packages, Java + ZooKeeper, and
# Apache Curator for the interop tests) first.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
ZK_JAR := /usr/share/java/zookeeper.jar
# Curator's x-discovery and the recipes its ServiceCache needs (Debian's
# libcurator-discovery-java does not depend on libcurator-recipes-java).
CURATOR_JARS := /usr/share/java/curator-x-discovery.jar /usr/share/java/curator-recipes.jar
CURATOR_PKGS := libcurator-discovery-java libcurator-recipes-java

.PHONY: all setup zookeeper curator browser test test-fast demo demo-web bench bench-fleet lint clean

all: test

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,netifaces]'
	touch $@

setup: $(STAMP) zookeeper curator browser

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

# Apache Curator's Java client and a JDK for tests/test_curator_interop.py,
# from Debian's packages when we are root with apt (after `zookeeper`, so two
# apt-gets never run at once). Without them and without root this does not
# fail: those tests skip, saying what is missing. AIOZKREG_CURATOR_CLASSPATH
# points the tests at Curator's jars elsewhere.
curator: zookeeper
	@if [ -n "$$AIOZKREG_CURATOR_CLASSPATH" ]; then exit 0; fi; \
	need=""; \
	for jar in $(CURATOR_JARS); do [ -f "$$jar" ] || need=" $(CURATOR_PKGS)"; done; \
	command -v javac >/dev/null 2>&1 || need="$$need default-jdk-headless"; \
	if [ -z "$$need" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing$$need for the Curator interop tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	else \
	  echo "Note: the Curator interop tests will be skipped: install$$need" \
	       "(Debian packages; needs root) or set AIOZKREG_CURATOR_CLASSPATH." >&2; \
	fi

# Chromium for the browser tests of aiozkreg serve (tests/test_web_page.py),
# from Debian's packages when we are root with apt (after `curator`: one
# apt-get at a time); Playwright drives it (the test extra), never a browser
# of its own. Without it and without root this does not fail: those tests
# skip, saying what is missing. AIOZKREG_CHROMIUM names another Chromium.
browser: curator
	@if [ -n "$$AIOZKREG_CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
	  echo "Note: the browser tests will be skipped: install Debian's chromium (needs root)" \
	       "or set AIOZKREG_CHROMIUM to a Chromium binary." >&2; \
	fi

test: setup
	@start=$$(date +%s); \
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	echo "test suite wall time: $$(( $$(date +%s) - start )) s"; exit $$rc

test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

demo: setup
	$(PY) examples/demo.py

# The live web view (aiozkreg serve) of the README's tree on a throwaway ZooKeeper.
demo-web: setup
	$(PY) examples/web_demo.py

bench: setup
	$(PY) benchmarks/run.py

# A fleet on a 3-server ensemble (issue 14): 300 sessions in worker processes,
# leader kill, rolling restart, mass expiry, the reconnect herd against kazoo,
# and on ensembles with 2 observers: watchers on observers, quorum loss with
# read-only watchers; writes its tables into docs/performance.md and
# docs/scaling.md. Not in `bench`.
bench-fleet: setup
	@start=$$(date +%s); \
	$(PY) benchmarks/fleet.py $(FLEET_ARGS); rc=$$?; \
	echo "bench-fleet wall time: $$(( $$(date +%s) - start )) s"; exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check aiozkreg tests examples benchmarks
	$(VENV)/bin/ruff format --check aiozkreg tests examples benchmarks
	$(VENV)/bin/mypy --strict aiozkreg

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
