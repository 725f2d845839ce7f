"""``pio web``: the web server's users and tokens, and the list of its routes."""

from __future__ import annotations

import json
import secrets

import click
from pioreactor.sdk import local_persistent_storage


@click.group()
def web() -> None:
    """Users and tokens of the web API ([web] auth = basic | token), and its routes."""


@web.command("add-user")
@click.argument("user")
@click.password_option(help="The password (asked twice when not given).")
def add_user(user: str, password: str) -> None:
    """Add USER (or change their password) for [web] auth = basic. Stored as a scrypt hash."""
    from pioreactor.plugins_core.web.security import STORE
    from werkzeug.security import generate_password_hash

    with local_persistent_storage(STORE) as store:
        users = dict(store.get("users") or {})
        users[user] = generate_password_hash(password)
        store["users"] = users
    click.echo(f"User {user} saved; restart the web server to use it.")


@web.command("remove-user")
@click.argument("user")
def remove_user(user: str) -> None:
    """Remove USER."""
    from pioreactor.plugins_core.web.security import STORE

    with local_persistent_storage(STORE) as store:
        users = dict(store.get("users") or {})
        if users.pop(user, None) is None:
            raise click.ClickException(f"no user {user!r}; users: {', '.join(users) or 'none'}")
        store["users"] = users
    click.echo(f"User {user} removed.")


@web.command("new-token")
def new_token() -> None:
    """Make a bearer token for [web] auth = token; it is shown once (only its hash is kept)."""
    from pioreactor.plugins_core.web.security import STORE, token_digest

    token = secrets.token_urlsafe(32)
    with local_persistent_storage(STORE) as store:
        store["tokens"] = [*list(store.get("tokens") or []), token_digest(token)]
    click.echo(token)


@web.command("revoke-tokens")
def revoke_tokens() -> None:
    """Forget every token."""
    from pioreactor.plugins_core.web.security import STORE

    with local_persistent_storage(STORE) as store:
        store["tokens"] = []
    click.echo("Every token revoked.")


@web.command("routes")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def routes(as_json: bool) -> None:
    """Every route the installed plugins register, with its methods and plugin."""
    from pioreactor.plugins_core.web.route_docs import route_rows

    rows = route_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{','.join(row['methods']):<18} {row['path']:<80} [{row['plugin']}]")
