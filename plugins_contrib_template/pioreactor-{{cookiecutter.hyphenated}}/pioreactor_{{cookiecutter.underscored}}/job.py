from pioreactor.sdk import BackgroundJob


class {{ cookiecutter.underscored.title().replace('_', '') }}(BackgroundJob):
    """{{ cookiecutter.description }}.

    :param intensity: How strongly to act, in percent.
    """

    job_name = "{{ cookiecutter.underscored }}"
    published_settings = {"intensity": {"datatype": "float", "settable": True, "unit": "%"}}

    def __init__(self, unit: str, experiment: str, *, intensity: float = 10.0) -> None:
        super().__init__(unit, experiment)
        self.intensity = intensity

    def on_disconnected(self) -> None:
        """Switch whatever this job drives off."""
