"""`conversations.tag_times`: when each tag on a conversation was added (issue 15).

Why: the Overview's Tagged conversations counts, per period, the tags *added*
in it (the spec), and a tag set by hand days after the reply belongs to the day
it was set. A JSON object, tag → ISO time, written by `storage.conversations.set_tags`
(the one writer of `tags`) in the same UPDATE. Tags already there get the time of
the lead's last message before this migration (what the widget counted by until now),
or the conversation's last change when the lead never wrote.
"""


def migrate(db) -> None:
    db.conn.execute("ALTER TABLE conversations ADD COLUMN tag_times TEXT NOT NULL DEFAULT '{}'")
    db.conn.execute(
        "UPDATE conversations SET tag_times = (SELECT json_group_object(t.value, coalesce((SELECT max(m.at) FROM messages m"
        " WHERE m.conversation_id = conversations.id AND m.direction = 'in'), conversations.updated_at))"
        " FROM json_each(conversations.tags) t) WHERE tags != '[]'")
