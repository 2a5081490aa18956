# The two commands of the README are `make demo` and `make test`; the rest are their parts.
.PHONY: demo test install up down status migrate seed reindex lint typecheck reset schema bench-search bench-match bench-realtime proof-escrow

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

# The escrow's property-based proof: at least 10,000 generated histories of funding, releases, refunds,
# disputes, faults and shuffled webhook deliveries against PostgreSQL and the Stripe simulator (a sample
# validated by stripe-mock); prints the counts and writes .bench/escrow.json (docs/escrow.md).
proof-escrow: up
	@.venv/bin/python scripts/proof_escrow.py $(ARGS)
