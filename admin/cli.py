"""`ivr admin ...`: make staff users and run the admin.

    ivr admin create-user admin --role admin          # asks for the password twice
    IVR_ADMIN_SECRET_KEY=... ivr admin serve --port 8080
"""
from __future__ import annotations

import os
import secrets

import click


@click.group("admin")
def admin() -> None:
    """The staff admin (web) and its users."""


def _sessions():
    from ivr.config import settings
    from ivr.storage import connect, session_factory, upgrade

    url = settings().db_url()
    upgrade(url)
    return session_factory(connect(url))


@admin.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "operator", "viewer"]), default="admin", show_default=True)
@click.option("--password", help="Default: asked for (twice). IVR_ADMIN_PASSWORD is used when set.")
@click.option("--display-name", default="", help="Name shown in the admin, e.g. 王经理.")
@click.option("--department", type=click.Choice(["collection", "dispatch", "service"]), default=None)
@click.option("--phone", default=None, help="The user's own phone, for test calls.")
@click.option("--locale", type=click.Choice(["zh_CN", "en"]), default="zh_CN", show_default=True)
def create_user_cmd(username: str, role: str, password: str | None, display_name: str,
                    department: str | None, phone: str | None, locale: str) -> None:
    """Make a staff account (the first administrator, typically)."""
    from sqlalchemy import select

    from admin.security import create_user
    from ivr.storage import StaffUser

    password = password or os.environ.get("IVR_ADMIN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    with _sessions()() as s:
        if s.scalar(select(StaffUser.id).where(StaffUser.username == username)):
            raise click.ClickException(f"user {username!r} exists")
        try:
            create_user(s, username=username, password=password, role=role, display_name=display_name,
                        department=department, phone=phone, locale=locale, by="cli")
        except ValueError as err:
            raise click.ClickException(str(err)) from None
        s.commit()
    click.echo(f"created {role} {username}")


@admin.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--insecure-cookies", is_flag=True,
              help="Send the session cookie over plain HTTP (only on a trusted local network).")
def serve(host: str, port: int, insecure_cookies: bool) -> None:
    """Run the admin with the built-in threaded server (put it behind HTTPS for real use)."""
    from werkzeug.serving import run_simple

    from admin import create_app

    if insecure_cookies:
        os.environ["IVR_ADMIN_SECURE_COOKIES"] = "0"
    if not (os.environ.get("IVR_ADMIN_SECRET_KEY") or os.environ.get("SECRET_KEY")):
        raise click.ClickException("set IVR_ADMIN_SECRET_KEY first, e.g. "
                                   f"export IVR_ADMIN_SECRET_KEY={secrets.token_hex(32)}")
    app = create_app()
    click.echo(f"admin: http://{host}:{port}/")
    run_simple(host, port, app, threaded=True, use_reloader=False)
