"""Running one platform as several instances (issue 14, scale-out): what every web process and
worker of one deployment must agree on, checked when each starts.

- `models.py`: facts recorded in the shared database (the secret key's fingerprint);
- `secret_key.py`: refuse to start an instance whose secret key differs from the deployment's.

Migrations run once when instances start together: `app.migrate` (under a lock).
"""
