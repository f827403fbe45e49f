# Two commands for a fresh machine with only Python and make:
#   make serve   - create the virtualenv, install, start the server
#   make test    - create the virtualenv, install, lint, type-check, test
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
SDK_DIR   = tests/opencode_sdk
SDK_STAMP = $(SDK_DIR)/node_modules/.installed
# Debian's Chromium, which tests/test_inbox_browser.py drives through Playwright (never a
# browser build of Playwright's own).
CHROMIUM ?= /usr/bin/chromium
AGENTS_DIR   = tests/agents
AGENTS_STAMP = $(AGENTS_DIR)/node_modules/.installed

.PHONY: serve test lint typecheck pytest bench clean test-agents

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# compat: a plain path in a .pth; the default editable finder's import hook slows
	# every interpreter start, and start-up has a goal (design/performance.md).  Falls
	# back to the default where a newer setuptools has dropped the mode.
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat \
		|| $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The OpenCode SDK that tests/test_opencode_sdk.py drives (that test skips without node/npm).
$(SDK_STAMP): $(SDK_DIR)/package.json $(SDK_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(SDK_DIR) --no-audit --no-fund && touch $@; \
	else echo "npm not found: tests/test_opencode_sdk.py will be skipped"; fi

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }; \
	else echo "no $(CHROMIUM): as root, apt-get install chromium (else the browser tests skip)"; fi

# The real agents tests/agents/ runs, at the exact versions of its package.json (no lock
# file: npm leaves the other platforms' binaries out of one, and `npm ci` then refuses it;
# each agent pins its platform packages exactly).
$(AGENTS_STAMP): $(AGENTS_DIR)/package.json
	npm install --prefix $(AGENTS_DIR) --no-package-lock --no-audit --no-fund && touch $@

serve: $(STAMP)
	$(BIN)/python -m agentactors serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check agentactors tests benchmarks
	$(BIN)/ruff format --check agentactors tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(SDK_STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# Real agents (OpenCode, Claude Code, Codex from npm) against fake model APIs on loopback:
# heavier than `make test` (about 1.2 GB of npm packages once, then about 3 minutes).
test-agents: $(STAMP) $(AGENTS_STAMP)
	AGENTACTORS_TEST_AGENTS=1 $(BIN)/python -m pytest tests/agents $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache $(SDK_DIR)/node_modules \
		$(AGENTS_DIR)/node_modules
