# The two commands of the README are `make demo` and `make test`; the rest are their parts.
.PHONY: demo test install up down status migrate seed reindex lint typecheck reset schema web web-dev bench-search bench-match bench-realtime bench-web proof-escrow

demo:
	@bash scripts/demo.sh

test:
	@bash scripts/test.sh

install:
	@bash scripts/install.sh

up: install
	@bash scripts/services.sh up

down:
	@bash scripts/services.sh down

status:
	@bash scripts/services.sh status

migrate:
	@.venv/bin/python manage.py migrate

seed:
	@bash scripts/load_demo_data.sh

# Rebuild every search index from PostgreSQL (new versions, atomic alias swap: searches keep working).
reindex:
	@bash -c 'source scripts/lib.sh && cd "$$ROOT" && "$$PY" manage.py search_index rebuild'

lint:
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

typecheck:
	@.venv/bin/mypy

# Builds the web app (frontend/) into frontend/dist, which Django serves at /; skipped when unchanged.
web:
	@bash scripts/build_web.sh

# The web app with hot reload on http://127.0.0.1:5173/, proxying the API to Django on :8000 (`make demo`).
web-dev:
	@bash scripts/install.sh node && cd frontend && npm run dev

# Stops everything and deletes all local data (databases, indices, logs). Downloads stay cached.
reset: down
	@if [ -L .run ]; then rm -rf "$$(readlink -f .run)"; fi; rm -rf .run

# Writes the GraphQL SDL that tests compare with the code.
schema:
	@.venv/bin/python -c "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'backend.settings'); django.setup(); from backend.api.schema import schema; open('schema.graphql', 'w').write(str(schema) + '\n')"

# Search latency, kNN recall and indexing throughput on 100,000 generated listings (docs/benchmarks.md).
# Uses its own database and index prefix; writes .bench/search.json. Pass options with ARGS="--repeat 3".
bench-search:
	@bash scripts/bench_search.sh $(ARGS)

# Matching quality (nDCG@10, Recall@100, MRR@10) on the en / ko / xling sets against two BM25 baselines.
# Writes .bench/match.json (docs/benchmarks.md).
bench-match: up
	@bash scripts/bench_match.sh

# Deal-room fan-out latency against raw Redis, kB per socket, RSS under churn; writes .bench/realtime.json.
bench-realtime: up
	@.venv/bin/python scripts/bench_realtime.py $(ARGS)

# The web app's budgets: initial JavaScript (gzip) and search paint time over the API's own time, in
# headless Chromium against a server on its own database; writes .bench/web.json (docs/benchmarks.md).
bench-web: up
	@.venv/bin/python scripts/bench_web.py $(ARGS)

# The escrow's property-based proof: at least 10,000 generated histories of funding, releases, refunds,
# disputes, faults and shuffled webhook deliveries against PostgreSQL and the Stripe simulator (a sample
# validated by stripe-mock); prints the counts and writes .bench/escrow.json (docs/escrow.md).
proof-escrow: up
	@.venv/bin/python scripts/proof_escrow.py $(ARGS)
