"""`ivr api …`: API keys and the caller ID allowlist from the command line (the staff admin
offers the same in the browser). Registered in ivr/cli.py with `main.add_command(api)`."""
from __future__ import annotations

import json

import click


def _sessions():
    from ivr.config import settings
    from ivr.storage import connect, session_factory

    return session_factory(connect(settings().db_url()))


@click.group()
def api() -> None:
    """The HTTP API for business systems (/api/v1): keys and caller IDs."""


@api.command("create-key")
@click.argument("name")
@click.option("--scope", type=click.Choice(["read", "write", "admin"]), default="read", show_default=True,
              help="read: GET only; write: also POST; admin: also webhooks.")
@click.option("--allow", "allow", multiple=True, metavar="ADDRESS[/BITS]",
              help="Only from this address or network (repeatable). Default: anywhere.")
def create_key(name: str, scope: str, allow: tuple[str, ...]) -> None:
    """Create a key and print it once (it is stored hashed, and cannot be shown again)."""
    from .keys import KeyError_, create_api_key

    with _sessions()() as session:
        try:
            record, plaintext = create_api_key(session, name, scope, list(allow), actor="cli")
        except KeyError_ as exc:
            raise click.UsageError(str(exc)) from None
        session.commit()
        click.echo(f"prefix {record.prefix}  scope {record.scope}  "
                   f"allow {', '.join(record.ip_allowlist) or 'anywhere'}", err=True)
    click.echo(plaintext)


@api.command("revoke-key")
@click.argument("prefix")
def revoke_key(prefix: str) -> None:
    """Revoke the key with this prefix (the 8 characters after ivr_)."""
    from .keys import KeyError_, revoke_api_key

    with _sessions()() as session:
        try:
            record = revoke_api_key(session, prefix, actor="cli")
        except KeyError_ as exc:
            raise click.UsageError(str(exc)) from None
        session.commit()
        click.echo(f"revoked {record.prefix} ({record.name})")


@api.command("list-keys")
def list_keys() -> None:
    """Every key: prefix, name, scope, allowlist, last use, revoked."""
    from ivr.webhooks.payloads import iso

    from .keys import list_api_keys

    with _sessions()() as session:
        for k in list_api_keys(session):
            click.echo(json.dumps({"prefix": k.prefix, "name": k.name, "scope": k.scope,
                                   "ip_allowlist": k.ip_allowlist, "last_used_at": iso(k.last_used_at),
                                   "revoked_at": iso(k.revoked_at)}, ensure_ascii=False))


@api.command("caller-ids")
@click.argument("numbers", nargs=-1)
@click.option("--clear", is_flag=True, help="Allow no caller ID at all.")
def caller_ids(numbers: tuple[str, ...], clear: bool) -> None:
    """Show, or set, the caller IDs campaigns and notices may present."""
    from .campaigns import caller_id_allowlist, set_caller_id_allowlist

    with _sessions()() as session:
        if numbers or clear:
            try:
                set_caller_id_allowlist(session, list(numbers), actor="cli")
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
            session.commit()
        click.echo(" ".join(caller_id_allowlist(session)) or "(none)")
