# afmpeg — everything a fresh machine needs is set up by these targets.
#   make demo    set up, build the engine if the cache lacks it, run the in-memory demo
#   make test    set up, build the engine if needed, run every test
#   make engine  build (or fetch from the build cache) the LGPL and GPL modules of the lean and full profiles in
#                build/, and their engine wheels (PROFILE=lean or PROFILE=full for one profile)
#   make bench   engine vs native FFmpeg timings, and the Python API's per-job overhead and pool throughput
#   make release a signed release of both engine variants in build/release/TAG/ (needs a key outside the repo)

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
ZIG_VERSION := $(shell sed -n 's/.*"ziglang": *"\([^"]*\)".*/\1/p' engine/sources.lock.json)
BUILD_CACHE ?= $(or $(AFMPEG_BUILD_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/afmpeg-build)
TOOLCHAIN   := $(BUILD_CACHE)/toolchain-zig-$(ZIG_VERSION)
MODULE      := build/afmpeg-engine-lgpl.wasm

.PHONY: demo test engine engine-install bench lint setup system-deps clean release

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $@

# The engine build needs pkg-config (FFmpeg's configure) and apt-get (source download).
system-deps:
	@command -v pkg-config >/dev/null || { apt-get update -q && apt-get install -y -q pkg-config; }

$(TOOLCHAIN)/.installed:
	$(PYTHON) -m venv $(TOOLCHAIN)
	$(TOOLCHAIN)/bin/python -m pip install -q ziglang==$(ZIG_VERSION)
	touch $@

# PROFILE=lean or PROFILE=full builds one profile; by default both (the tests need both).
PROFILE     ?= lean full
ENGINES     := $(foreach p,$(PROFILE),$(if $(filter lean,$(p)),lgpl gpl,lgpl-$(p) gpl-$(p)))

engine: system-deps $(TOOLCHAIN)/.installed
	AFMPEG_BUILD_CACHE=$(BUILD_CACHE) $(TOOLCHAIN)/bin/python engine/build.py --variant lgpl --variant gpl \
	  $(foreach p,$(PROFILE),--profile $(p))
	rm -f build/afmpeg_engine_*.whl
	for e in $(ENGINES); do \
	  AFMPEG_BUILD_CACHE=$(BUILD_CACHE) $(TOOLCHAIN)/bin/python engine/wheel.py --module build/afmpeg-engine-$$e.wasm \
	    --provenance build/afmpeg-engine-$$e.wasm.provenance.json --out build/ || exit 1; \
	done

# The LGPL engine wheel, installed into .venv: Runtime() finds it as a user's install would.
engine-install: setup engine
	$(PY) -m pip install -q --no-deps --force-reinstall build/afmpeg_engine_lgpl-*-py3-none-any.whl

demo: setup engine engine-install
	$(PY) examples/demo.py

test: setup engine engine-install
	$(PY) -m ruff check src tests bench examples engine/*.py engine/libs tools
	$(PY) -m pytest -q

bench: setup engine
	$(PY) bench/bench.py
	$(PY) bench/bench_api.py

# A signed release in build/release/$(TAG)/ (default tag: v<version>); the secret key comes from AFMPEG_RELEASE_KEY
# (the key's text) or AFMPEG_RELEASE_KEY_FILE, outside the repo. No key yet? $(PY) engine/release.py --new-key FILE
release: setup engine
	$(PY) engine/release.py --tag '$(or $(TAG),v$(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' pyproject.toml))'

clean:
	rm -rf build $(VENV) .pytest_cache .ruff_cache
