"""The organization snapshot: one read of every member, team and role, answering every read question
(queries.py: the API's filters evaluated on it), kept fresh by its max age and by the client's own
writes (store.py), shared by replicas through Redis (shared.py)."""
