"""The gateway's fast lane: authorized, masked and audited key lookups without the router.

Key lookups (``GET /gateway/v1/resources/{resource}/records/{key}``) are the hot path of
a sharing platform. The lane answers the common case — an app's API key, a scenario with
a live grant, a record that exists and carries no objection flag — itself, in the event
loop: what authorizes the call (the app, the grant, the resource's fields and delivery
plan, the records under objection) is cached per process and valid for one *policy
generation*, a counter that database triggers bump on any change to those tables
(migration 0010); each call reads the generation, the day's quota count and the record
in one SQL statement (shared by the calls of one event-loop turn, ``batch``), so a
revocation takes effect at the next call in every process.
Everything else (a refusal, an unknown key, a flagged record, a missing record, an
unusual request) goes on to the routes, which answer it as before. Both give the same
answer and the same audit entry; tests check that on both databases (decision 0015).
"""

from hutong.gateway.lane.lookup import LookupLane

__all__ = ["LookupLane"]
