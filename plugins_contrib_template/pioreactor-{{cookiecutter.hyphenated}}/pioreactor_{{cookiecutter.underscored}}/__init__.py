"""{{ cookiecutter.description }}: hook implementations only (the job module loads when it runs)."""

from pioreactor.sdk import hookimpl


@hookimpl
def pioreactor_register_jobs(registry):
    registry.add(
        "{{ cookiecutter.underscored }}",
        "pioreactor_{{ cookiecutter.underscored }}.job:{{ cookiecutter.underscored.title().replace('_', '') }}",
        summary="{{ cookiecutter.description }}",
    )
