# crmkit: `make demo` to see it work, `make test` to run the whole test suite.
# Both create ./.venv and install everything they need into it.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
# pip's notes about index folders this machine's pip configuration names but lacks
QUIET_PIP = 2>&1 | { grep -v "^WARNING: Location" || true; }
VENV   ?= .venv
BIN     = $(VENV)/bin
DEMO_DIR := $(shell mktemp -d 2>/dev/null || echo /tmp/crmkit-demo)/fjordlys

.PHONY: install test-deps browser spreadsheet imap test test-faults ruff lint demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip $(QUIET_PIP)

# The stamp is redone whenever setup.cfg changes, so a new dependency is installed.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[pdf]' $(QUIET_PIP)
	@# bytecode now: an editable install under PYTHONDONTWRITEBYTECODE compiled crmkit
	@# again on every command (40-70 ms each)
	$(BIN)/python -m compileall -q crmkit
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[pdf,test]' $(QUIET_PIP)
	touch $@

install: $(VENV)/.installed

test-deps: $(VENV)/.test-installed browser spreadsheet imap

# The HTML report tests look at pages in a real headless browser (Debian's chromium).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "note: chromium not found; browser tests will be skipped"; fi; }

# The CSV export tests open the files in LibreOffice Calc, headless (Debian's
# libreoffice-calc-nogui: about 60 packages, 200 MB, under a minute to install).
spreadsheet:
	@command -v soffice >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing LibreOffice Calc (headless) for the spreadsheet tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	       libreoffice-calc-nogui >/dev/null) \
	      || echo "warning: could not install LibreOffice; spreadsheet tests will be skipped"; \
	  else echo "note: soffice not found; spreadsheet tests will be skipped"; fi; }

# inbox fetch --imap is tested against a real Dovecot over TLS, started by the tests in a
# temporary folder (Debian's dovecot-imapd; the packaged service itself is not used).
imap:
	@command -v dovecot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Dovecot for the IMAP tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	       dovecot-imapd openssl >/dev/null) \
	      || echo "warning: could not install Dovecot; IMAP tests will be skipped"; \
	  else echo "note: dovecot not found; IMAP tests will be skipped"; fi; }

# Every test run lints first: ruff and mypy are clean, and a change that breaks either
# fails `make test` (and so .ci/run) before the suite starts.
test: test-deps lint
	$(BIN)/python -m pytest

# ruff (rule set in pyproject.toml, version pinned in setup.cfg so a new release's rules
# cannot turn CI red) over the code, tests and bench.
ruff: $(VENV)/.test-installed
	$(BIN)/ruff check crmkit tests bench

# ruff, then mypy (pinned in setup.cfg; strict on crmkit/store and crmkit/values.py,
# normal elsewhere) over crmkit/.
lint: ruff
	$(BIN)/mypy

# The whole fault-injection suite: kill -9 at every point of import, route, set and mail send.
test-faults: test-deps
	$(BIN)/python -m pytest -m "faults or not faults" tests/store/test_faults.py
	$(BIN)/python -m pytest -m faults tests/store/test_team_day.py  # thirty seeded days on two clones

demo: install
	@echo "== A copy of the sample workspace in $(DEMO_DIR)"
	@$(BIN)/crmkit init "$(DEMO_DIR)" --sample >/dev/null
	@echo; echo "== crmkit company list --limit 8"; cd "$(DEMO_DIR)" && $(CURDIR)/$(BIN)/crmkit company list --limit 8
	@echo; echo "== crmkit deal list --where 'stage in [proposal, negotiation]' --sort -value"
	@cd "$(DEMO_DIR)" && $(CURDIR)/$(BIN)/crmkit deal list --where 'stage in [proposal, negotiation]' --sort -value
	@echo; echo "== crmkit show nordvik-as   (the 360° view of a customer)"
	@cd "$(DEMO_DIR)" && $(CURDIR)/$(BIN)/crmkit show nordvik-as
	@echo; echo "== crmkit check"; cd "$(DEMO_DIR)" && $(CURDIR)/$(BIN)/crmkit check
	@echo; echo "Try it yourself:"
	@echo "  . $(CURDIR)/$(BIN)/activate"
	@echo "  cd $(DEMO_DIR) && crmkit --help"
	@echo "  crmkit init ~/my-crm     # a workspace of your own"

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
