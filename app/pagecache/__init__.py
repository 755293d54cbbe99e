"""Whole pages as anonymous visitors see them, kept in each server process and invalidated by
every write, in every process and on every machine (issue 14).

- `generation.py`: the deployment's page generation, a value that changes after every commit
  that wrote something a page may show (a PostgreSQL sequence; a file next to a SQLite one; a
  key in Redis read instead when REDIS_URL is set), read by the requests arriving together once
  (`shared_read.py`), or, on another server, from a read begun a few milliseconds before the
  request while every write's answer waits as long after its bump (`settle.py`);
- `tracking.py`: which transactions wrote such a thing (any INSERT, UPDATE or DELETE but those
  on tables no page shows: sessions, rate limits, the outbox...), and the bump after their commit;
- `expiry.py`: when the page being made changes by the clock alone, noted by the code that reads
  the clock (a call's phase, its time left);
- `middleware.py`: the cache itself, an ASGI middleware in front of the application;
- `lru.py`: the bounded store the pages (and app.call.cards' cards) are kept in.

Why it is correct: an entry is served only while the generation it was made under is current,
and the generation is read when a request starts (or, on PostgreSQL and Redis, less than
`generation.SETTLE_SECONDS` before); a writer bumps it after committing, and its answer leaves
that long after the bump at the earliest (`settle.py`). So once a write's answer is received, no
process serves a page made before it.
Pages also follow the clock (a phase opening at midnight, "3 days left"): an entry lives until
the moment the clock alone changes what it shows (`expiry.py`: a phase's dated end, the next
change of a time left), and `TTL_SECONDS` at most. Only anonymous GETs without a flash message
are cached, and only answers that hold no CSRF token, are not marked no-store or private (as
every logged-in view is, should the cache ever take one for an anonymous visitor's) and set no
cookie but a first visitor's CSRF seed (never stored: each first visitor served from the cache
gets a seed of their own): no one's logged-in view is ever stored, and a first visit is as fast
as the next ones.
"""
