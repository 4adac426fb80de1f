"""Retired: a trigger-filled table of punctuation marks per contact, replaced by m045.

m044 once created `search_marks` and `contact_marks` (one row per mark and
contact) with three triggers on contacts, for searches with no letters or
digits ("&", "@"), which the FTS word index (m041) cannot serve. Its triggers
made writing contacts about twice as expensive, so m045 replaced it with an
FTS5 index of the same name. A migration is history: databases that ran the
old m044 exist, so this one keeps its name and number but does nothing, and
m045 drops the old table and triggers only if they are there. Every workspace
(before m044, between m044 and m045, after m045) then ends with one schema.
The old statements are in git history (commit 75a0680).
"""


def migrate(db) -> None:
    """Nothing: m045 builds the punctuation index."""
