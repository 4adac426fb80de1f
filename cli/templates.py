"""`enginy templates`: the built-in campaign templates (and saved ones)."""

from __future__ import annotations

import typer

from cli.output import UserError, emit
from cli.workspace import workspace_dir

app = typer.Typer(help="Browse campaign templates: `list`, then `show NAME` for the whole sequence.", no_args_is_help=True,
                  rich_markup_mode=None)


def _summary(template) -> dict:
    return {
        "name": template.name, "slug": template.slug, "categories": list(template.categories),
        "channels": template.channels, "overview": template.overview, "best_for": template.best_for,
        "steps": len(template.sequence.nodes), "builtin": template.builtin,
    }


def _saved(ctx: typer.Context) -> tuple:
    """The user templates saved in the workspace; none when there is no (usable) workspace,
    so the built-ins are always browsable."""
    from storage.campaigns import user_templates
    from storage.workspace import WorkspaceError, open_workspace

    try:
        ws = open_workspace(workspace_dir(ctx))
    except WorkspaceError:
        return ()
    db = ws.open_db()
    try:
        return user_templates(db)
    finally:
        db.conn.close()


@app.command("list")
def list_templates(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="One JSON array of templates."),
) -> None:
    """List the templates with their channels and what each is best for (saved ones after the built-ins)."""
    from sequences.templates import BUILTIN_TEMPLATES

    rows = [_summary(t) for t in (*BUILTIN_TEMPLATES, *_saved(ctx))]
    width = max(len(r["name"]) for r in rows)
    human = "\n".join(f"{r['name']:<{width}}  {'+'.join(r['channels']):<20} "
                      f"{r['overview'] if r['builtin'] else '(saved) ' + r['overview']}".rstrip() for r in rows)
    emit(rows, json_out, human=human)


@app.command("show")
def show_template(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Template name (any case) or its slug, e.g. email-only."),
    json_out: bool = typer.Option(False, "--json", help="The template with its full sequence as JSON."),
) -> None:
    """Show one template: its overview and every step of its sequence."""
    import msgspec

    from sequences.model import children, describe
    from sequences.templates import BUILTIN_TEMPLATES, find_template

    saved = _saved(ctx)
    template = find_template(name, saved)
    if template is None:
        names = ", ".join(t.name for t in (*BUILTIN_TEMPLATES, *saved))
        raise UserError(f"no template named {name!r}; the templates are: {names}")
    data = _summary(template) | {"sequence": msgspec.to_builtins(template.sequence)}
    lines = [template.name, template.overview]
    if template.best_for:
        lines.append(f"Best for: {template.best_for}")
    lines.append("")
    by_id = {n.id: n for n in template.sequence.nodes}

    def walk(node_id: str | None, depth: int, prefix: str) -> None:
        if node_id is None:
            return
        node = by_id[node_id]
        lines.append(f"{'  ' * depth}{prefix}{describe(node)} — {node.delay.label()}")
        kids = children(node)
        if len(kids) == 2:
            walk(kids[0], depth + 1, "yes → ")
            walk(kids[1], depth + 1, "no → ")
        else:
            walk(kids[0], depth, "")

    walk(template.sequence.start, 0, "")
    emit(data, json_out, human="\n".join(lines))
