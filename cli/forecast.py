"""`enginy forecast`: when each running campaign finishes, and which identity's cap holds it back.

The work is runtime/forecast.py (the real runtime on a sandbox copy of the
workspace); this module only reads options and prints. Progress goes to
stderr when it is a terminal and the output is not JSON, so scripts reading
`--json` never see it.
"""

from __future__ import annotations

import sys

import typer

from sequences.limits import RUN_DAYS_MAX, SEED_MAX
from cli.output import UserError, emit
from cli.workspace import open_ws


def forecast(
    ctx: typer.Context,
    days: float = typer.Option(30.0, "--days", min=0.1, max=RUN_DAYS_MAX, help="How many days of workspace time to simulate."),
    seed: int = typer.Option(1, "--seed", min=0, max=SEED_MAX, help="Seed of the sandbox world (same seed, same forecast)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Project when each campaign finishes, from the workspace's real state, on a sandbox copy."""
    from runtime.forecast import NothingToForecast, run_forecast, stderr_progress

    ws = open_ws(ctx)
    if not ws.db_path.is_file():
        raise UserError(f"no database at {ws.db_path}")
    progress = stderr_progress if (sys.stderr.isatty() and not json_out) else None
    try:
        report = run_forecast(ws.db_path, days=days, seed=seed, progress=progress)
    except NothingToForecast as exc:
        raise UserError(str(exc)) from None
    finally:
        if progress is not None:
            sys.stderr.write("\n")
    emit(report, json_out, _human(report))


def _human(report: dict) -> str:
    rates = ", ".join(f"{k} {v['value']:.0%} ({v['source']})" for k, v in report["rates"].items())
    lines = [f"forecast {report['start']} → {report['end']} ({report['sim_days']:g} days, seed {report['seed']},"
             f" {report['wall_s']} s); rates: {rates}"]
    for c in report["campaigns"]:
        b = c["bottleneck"]
        neck = f"{b['identity']} / {b['cap']} at {b['utilization']:.0%}" if b else "none"
        when = c["finishes_at"] or f"not within {report['sim_days']:g} days"
        lines.append(f"#{c['campaign']} {c['name']}: {c['remaining_leads_now']} → {c['remaining_leads_after']}"
                     f" leads left; finishes {when}; bottleneck {neck}")
    return "\n".join(lines)
