"""`enginy templates`: the built-in campaign templates (and saved ones)."""

from __future__ import annotations

import msgspec
import typer

from cli.output import UserError, emit

app = typer.Typer(help="Browse campaign templates: `list`, then `show NAME` for the whole sequence.", no_args_is_help=True)


def _summary(template) -> dict:
    return {
        "name": template.name, "slug": template.slug, "categories": list(template.categories),
        "channels": template.channels, "overview": template.overview, "best_for": template.best_for,
        "steps": len(template.sequence.nodes), "builtin": template.builtin,
    }


@app.command("list")
def list_templates(json_out: bool = typer.Option(False, "--json", help="One JSON array of templates.")) -> None:
    """List the templates with their channels and what each is best for."""
    from sequences.templates import BUILTIN_TEMPLATES

    rows = [_summary(t) for t in BUILTIN_TEMPLATES]
    width = max(len(r["name"]) for r in rows)
    human = "\n".join(f"{r['name']:<{width}}  {'+'.join(r['channels']):<20} {r['overview']}" for r in rows)
    emit(rows, json_out, human=human)


@app.command("show")
def show_template(
    name: str = typer.Argument(..., help="Template name (any case) or its slug, e.g. email-only."),
    json_out: bool = typer.Option(False, "--json", help="The template with its full sequence as JSON."),
) -> None:
    """Show one template: its overview and every step of its sequence."""
    from sequences.model import children, describe
    from sequences.templates import BUILTIN_TEMPLATES, find_template

    template = find_template(name)
    if template is None:
        names = ", ".join(t.name for t in BUILTIN_TEMPLATES)
        raise UserError(f"no template named {name!r}; the templates are: {names}")
    data = _summary(template) | {"sequence": msgspec.to_builtins(template.sequence)}
    lines = [template.name, template.overview, f"Best for: {template.best_for}", ""]
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
