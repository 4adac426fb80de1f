"""The detail of a lead's wait, beside its substatus: which cap is spent, and until when.

Why: "Identity limits" and "Outside working hours" said why a lead waits but
not for how long (issue 14). The identity actor's lane knows which cap of
its bucket is spent (e.g. invitations 20/day) and when the lane can run
again (the cap's refill or the next opening, in the identity's working
hours); it writes both here with the substatus, in the same UPDATE
(runtime/actors/waiting.py → storage/lanes.py). Any other write of the
substatus clears them (storage/leads.py, storage/lead_intents.py).

`wait_cap` is the cap in words ("invitations 20/day"), `wait_until` an ISO
UTC time. No index: nothing searches them, and every lead's step names
them only when its substatus changes.
"""


def migrate(db) -> None:
    db.conn.execute("ALTER TABLE enrollments ADD COLUMN wait_cap TEXT")
    db.conn.execute("ALTER TABLE enrollments ADD COLUMN wait_until TEXT")
