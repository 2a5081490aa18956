"""Generated demo records around the real patent catalogue: buyers, brokers, listings, demands, deals.

`python manage.py generate_demo_data` runs it. Modules:
- `cast`: the invented organisations and people (placeholder names, reserved e-mail domains);
- `sectors`: IPC code (or NASA category) -> strategic sector, and which patents belong together;
- `catalogue`: packages of related patents of one holder, described from their real titles and abstracts;
- `demands`, `deals`: the buyers' needs, and deal scenarios driven through the workflow actions;
- `escrow`: the agreed deals' milestones through the escrow (deposits, payments, releases, a dispute);
- `generator`: the whole run; `reset`: deletes generated records only; `report`: counts and accounts;
- `records`: how generated rows are found (is_generated, or the reserved e-mail domains for users).
"""
