"""The shared HTTP layer every provider client stands on.

Rooms: `client` (ApiClient, Timeouts), `limiter` (token buckets fed by the server), `retry`
(the tenacity policy), `breaker` (circuit per account), `paginate` (cursor, Link and GraphQL
paging), `errors` (the typed hierarchy), `stats` (counters for asset metadata), `urls` (the
https-or-loopback rule and redaction).
"""
