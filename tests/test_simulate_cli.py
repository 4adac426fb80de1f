"""`enginy simulate --json`: the report a user scripts against, through the real command line."""

from __future__ import annotations

from tests.support.campaign_workspace import ok_json

KEYS = {"violations", "cap_utilization", "actions", "enrollments", "sim_days", "wall_s", "peak_rss_mb", "log_sha256"}


def simulate(tmp_path, seed: int, processes: int) -> dict:
    # --workspace is irrelevant (the simulation builds its own throw-away one) but must not be touched
    return ok_json(tmp_path / "unused", "simulate", "--identities", "3", "--leads-per-identity", "80",
                   "--days", "6", "--seed", str(seed), "--processes", str(processes))


def test_simulate_reports_a_clean_reproducible_run(tmp_path):
    first = simulate(tmp_path, 7, processes=1)
    assert KEYS <= first.keys()
    assert first["violations"] == []
    assert first["sim_days"] == 6
    assert first["enrollments"]["total"] == 3 * 80
    assert sum(first["actions"].values()) > 100  # invitations, visits, messages, emails went out
    assert set(first["cap_utilization"]) >= {"worst", "mean"}
    # same seed, same ordered action log — also when the identities are split over two processes
    again = simulate(tmp_path, 7, processes=2)
    assert again["processes"] == 2
    assert again["log_sha256"] == first["log_sha256"]
    assert again["actions"] == first["actions"] and again["enrollments"] == first["enrollments"]
    assert again["cap_utilization"] == first["cap_utilization"]
    assert simulate(tmp_path, 8, processes=1)["log_sha256"] != first["log_sha256"]
    assert not (tmp_path / "unused").exists()
