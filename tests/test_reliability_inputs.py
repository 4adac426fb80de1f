"""Every number a user can type is bounded where it enters: command-line flags and enginy.toml.

Each value here crashed a command with a traceback before (SQLite's integer overflow on
`--after`, datetime's on `--days`, a clock of speed 1e300 or NaN, a port past 65535) or
was accepted into the workspace's settings; now each is one clear refusal, exit code 2.
"""

from __future__ import annotations

import pytest

from storage.config import DEFAULT_TOML, ConfigError, parse_config
from tests.support.campaign_workspace import enginy


@pytest.mark.parametrize("args, said", [
    (("contacts", "list", "--after", str(2**70)), "--after"),
    (("lists", "show", "L", "--after", "-1"), "--after"),
    (("run", "--speed", "1e300", "--until", "1s"), "--speed must be a number above 0 and at most 1,000,000"),
    (("run", "--speed", "nan", "--until", "1s"), "--speed must be a number above 0"),
    (("run", "--speed", "0", "--until", "1s"), "--speed must be a number above 0"),
    (("demo", "--speed", "inf"), "--speed must be a number above 0"),
    (("simulate", "--days", "1e9"), "--days"),
    (("forecast", "--seed", str(2**64)), "--seed"),
    (("stop", "--wait", "1e300"), "--wait"),
    (("tracking", "serve", "--port", "99999"), "--port"),
    (("linkedin", "withdraw", "x", "--older-than", str(10**12)), "--older-than"),
])
def test_an_out_of_range_flag_is_refused_without_a_traceback(ws, args, said):
    r = enginy(ws, *args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and said in r.stderr


@pytest.mark.parametrize("setting, value, said", [
    ("speed = 3600.0", "speed = nan", "demo.speed"),
    ("speed = 3600.0", "speed = inf", "demo.speed"),
    ("speed = 3600.0", "speed = 1e12", "demo.speed"),
    ("seed = 7", f"seed = {2**64}", "demo.seed"),
    ("seed = 7", "seed = -1", "demo.seed"),
    ('name = "My workspace"', f'name = "{"x" * 5000}"', "name"),
])
def test_an_out_of_range_setting_in_enginy_toml_is_one_line_naming_it(setting, value, said):
    text = DEFAULT_TOML.replace(setting, value, 1)
    assert text != DEFAULT_TOML
    with pytest.raises(ConfigError, match=said) as refused:
        parse_config(text)
    assert "\n" not in str(refused.value)
