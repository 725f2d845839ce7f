"""The ``${{ ... }}`` expression language and profile times: parsing, precedence, evaluation, errors.

Pure functions: no broker, no subprocess.
"""

from __future__ import annotations

from typing import Any

import pytest
from pioreactor.plugins_core.profiles.durations import DurationError, format_duration, parse_duration
from pioreactor.plugins_core.profiles.evaluate import (
    Environment,
    ExpressionError,
    compile_condition,
    compile_template,
    evaluate_template,
)
from pioreactor.plugins_core.profiles.expressions import ExpressionSyntaxError, parse
from pioreactor.plugins_core.profiles.live_values import decode

LIVE = {
    ("unit1", "stirring", "target_rpm"): b"400.0",
    ("unit1", "stirring", "$state"): b"ready",
    ("unit1", "od_reading", "od1"): b'{"od": 1.2, "angle": "90", "channel": "1"}',
    ("unit1", "leds", "intensity"): b'{"A": 10.0, "B": 50.0}',
    ("unit2", "stirring", "target_rpm"): b"600",
    ("unit1", "stirring", "enable_dodging_od"): b"False",
}


def env(**inputs: Any) -> Environment:
    def read(unit: str, job: str, setting: str) -> Any:
        try:
            return decode(LIVE[(unit, job, setting)])
        except KeyError:
            raise ExpressionError(f"{unit}:{job}:{setting} has no value") from None

    return Environment(
        "unit1", "stirring", "exp1", inputs, hours_elapsed=lambda: 12.5, read_live=read, functions={"double": lambda x: 2 * x}
    )


def value(text: str, **inputs: Any) -> Any:
    compiled = compile_condition(text)
    return compiled if isinstance(compiled, bool) else evaluate_template(compiled, env(**inputs))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 1", 2),
        ("True + True", 2.0),
        ("-1.5 / -2.0", 0.75),
        ("not (True)", False),
        ("2 ** 3 ** 2", 512),  # right-associative
        ("-2 ** 2", -4),  # ** binds tighter than unary minus, as in Python
        ("2 ** -1", 0.5),
        ("1 + 2 * 3 - 4 / 2", 5),
        ("(1 + 2) * 3", 9),
        ("true and FALSE or True", True),
        ("1 < 2 and 2 <= 2 and 3 > 2 and 3 >= 3 and 1 == 1 and 1 != 2", True),
        ("${{ 10 > 5 }}", True),
        ("::stirring:target_rpm + 10", 410),
        ("${{ unit1:stirring:target_rpm * 2 }}", 800),
        ("unit():stirring:target_rpm", 400),
        ("unit2:stirring:target_rpm - ::stirring:target_rpm", 200),
        ("::stirring:$state == ready", True),
        ("::stirring:$state == sleeping", False),
        ("::od_reading:od1.od > 1.0", True),
        ("::leds:intensity.B + (::od_reading:od1.od - 1) * 10", 52),
        ("::stirring:enable_dodging_od or 7", 7),
        ("unit() == unit1 and job_name() == stirring and experiment() == exp1", True),
        ("hours_elapsed() * 2", 25),
        ("hours_elapsed > 12", True),
        ("random() >= 0 and random() < 1", True),
        ("double(21)", 42),
        ("target + 5", 505),
    ],
)
def test_expressions_evaluate_as_documented(text: str, expected: Any) -> None:
    assert value(text, target=500.0) == expected


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("(False or True) or False)", "unexpected ')'", 24),
        ("1 < 2 < 3", "unexpected '<'", 6),
        ("x = 1", "unexpected character '='", 2),
        ('::stirring:$state == "ready"', "unexpected character '\"'", 21),
        ("1 +", "ends too early", 3),
        ("test.test > 1", "unexpected character '.'", 4),
        ("", "empty", 0),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, message: str, offset: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert caught.value.offset == offset


def test_templates_mix_text_and_expressions_and_keep_old_placeholders() -> None:
    template = compile_template("{job} on {unit} ({experiment}) at ${{ ::stirring:target_rpm }} RPM, ok: ${{ 1 < 2 }}")
    assert evaluate_template(template, env()) == "stirring on unit1 (exp1) at 400 RPM, ok: true"
    assert compile_template("${{ 1 + 1 }}").is_expression and evaluate_template(compile_template(" ${{ 1 + 1 }} "), env()) == 2
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_template("a ${{ 1 + }} b")
    assert caught.value.offset == 9  # just after the "+", counted from the start of the whole string
    with pytest.raises(ExpressionSyntaxError, match="never closed"):
        compile_template("a ${{ 1 + 1 b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 / 0", "division by zero"),
        ("::stirring:missing + 1", "unit1:stirring:missing has no value"),
        ("::od_reading:od1.nope", "has no key 'nope' (its keys: od, angle, channel)"),
        ("ready + 1", "cannot apply + to the text 'ready' and the number 1"),
        ("nothing()", "there is no function nothing()"),
        ("unit(1)", "unit() takes no arguments"),
        ("(-8) ** 0.5", "is not a real number"),
    ],
)
def test_evaluation_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        value(text)
    assert message in str(caught.value)


def test_durations_accept_both_formats_and_refuse_nonsense() -> None:
    assert parse_duration(0.5) == 1800 and parse_duration(0) == 0
    assert [parse_duration(t) for t in ("30s", "2m", "1.5h", "2d", "1H", " 90 s ")] == [30, 120, 5400, 172800, 3600, 90]
    for bad, code in (("5 minutes", "time.invalid"), ("-2m", "time.negative"), (-1, "time.negative"), (True, "time.invalid"), ("0.5", "time.invalid")):
        with pytest.raises(DurationError) as caught:
            parse_duration(bad)
        assert caught.value.code == code
    assert [format_duration(s) for s in (0, 30, 90, 5400, 172800, 4 * 86400 + 7200)] == ["0s", "30s", "1.5m", "1.5h", "48h", "4d 2h"]
