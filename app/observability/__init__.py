"""Observability: what operators of a city's platform see of it running (issue 14).

- `context.py`: the request id, carried from a request into the outbox messages it queues and
  into the worker's logs while it carries them out;
- `logs.py`: logs as JSON lines (or text), each record with its request id;
- `middleware.py`: the request id, the access log and the latency histogram of each request;
- `metrics.py`: Prometheus metrics at `/metrics` (behind a bearer token);
- `health.py`: liveness (`/healthz`) and readiness (`/readyz`: database, storage, search);
- `errors.py`: error reporting to Sentry when a DSN is configured.
"""
