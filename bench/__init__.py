"""The platform's benchmark (issue 14): `.venv/bin/python -m bench --size small`.

- `dataset.py`: a database filled with bulk inserts (calls, themes, districts, citizens,
  ideas, supports, comments, sessions for the citizens who post during the run);
- `server.py`: the real application served by uvicorn with one process per core, plus a bare
  endpoint answering the same bytes as a page (the floor: what the server itself costs);
- `load.py`: wrk (Debian's package) driving each page from a separate process on loopback;
- `__main__.py`: the command: fills, serves, measures each page on SQLite and PostgreSQL,
  prints one table per database and saves the figures as JSON.

A measurement, not a test: nothing fails; figures depend on the machine and on what else runs.
"""
