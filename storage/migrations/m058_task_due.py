"""`tasks.due_at` and an index to list tasks by state and due date (issue 15).

Why: a Task step says when its task is due (`Task.due_days`, counted from
the moment the step runs) and a task made by hand may have a date; the Tasks
screen shows pending, completed and overdue (pending with `due_at` in the
past) tasks and sorts by what is due first. NULL: no due date.
"""


def migrate(db) -> None:
    db.conn.execute("ALTER TABLE tasks ADD COLUMN due_at TEXT")
    db.conn.execute("CREATE INDEX tasks_status_due ON tasks(status, due_at)")
