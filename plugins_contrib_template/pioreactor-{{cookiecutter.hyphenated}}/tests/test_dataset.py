"""The table, its MQTT sink and the export dataset."""

from pioreactor_{{ cookiecutter.underscored }}.data import duty_cycle_row

TABLE = "{{ cookiecutter.underscored }}_duty_cycles"


def test_a_message_becomes_a_row():
    row = duty_cycle_row("pioreactor/unit1/exp1/{{ cookiecutter.underscored }}/duty_cycle", b"42.5")
    assert row["pioreactor_unit"] == "unit1" and row["experiment"] == "exp1" and row["duty_cycle"] == 42.5


def test_exports_offer_the_dataset(pio):
    result = pio("run", "export_experiment_data", "--list")
    assert result.returncode == 0, result.stderr
    assert TABLE in result.stdout
