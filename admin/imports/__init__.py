"""Imports of accounts (arrears lists) and payments: upload → preview with column mapping and
a row-by-row report → save all or nothing."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import time
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import AnyOf

from admin.db import db
from ivr.policy.windows import local_today
from admin.security import audit, require

from . import apply as applying
from . import parsing
from .parsing import ImportRefused, Limits, Table

bp = Blueprint("imports", __name__, url_prefix="/imports")
TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP_SECONDS = 24 * 3600
PREVIEW_ROWS = 20
MAX_ERRORS_SHOWN = 300


class UploadForm(FlaskForm):
    kind = StringField("kind", validators=[AnyOf(["accounts", "payments"])], default="accounts")
    file = FileField("file", validators=[FileRequired()])
    new_period = BooleanField("new_period", default=False)


def limits() -> Limits:
    c = current_app.config
    return Limits(max_rows=c["IMPORT_MAX_ROWS"], max_uncompressed=c["XLSX_MAX_UNCOMPRESSED"],
                  max_ratio=c["XLSX_MAX_RATIO"], max_members=c["XLSX_MAX_MEMBERS"])


# -- parsed uploads between steps -------------------------------------------------------------

def _dir() -> Path:
    path = Path(current_app.config["IMPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _path(token: str) -> Path:
    if not TOKEN.match(token):
        abort(404)
    return _dir() / f"{token}.json"


def _save(token: str, state: dict) -> None:
    path = _path(token)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _load(token: str) -> dict:
    path = _path(token)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        abort(404)
    if state.get("user") != current_user.id:
        abort(404)
    return state


def _sweep() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for old in _dir().glob("*.json"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass


# -- checking ---------------------------------------------------------------------------------

def _fields(kind: str) -> dict:
    return parsing.ACCOUNT_FIELDS if kind == "accounts" else parsing.PAYMENT_FIELDS


def check(state: dict):
    """(checked, plan, mapping problems) for the stored upload and its mapping."""
    table = Table.from_json(state["table"])
    mapping = state["mapping"]
    problems = parsing.mapping_errors(mapping, state["kind"])
    if problems:
        return None, None, problems
    s = db()
    if state["kind"] == "accounts":
        checked = parsing.parse_accounts(table, mapping)
        plan = applying.plan_accounts(s, checked, new_period=state.get("new_period", False))
    else:
        checked = parsing.parse_payments(table, mapping, local_today())
        plan = applying.plan_payments(s, checked)
    plan.errors.sort(key=lambda e: e.row)
    return checked, plan, []


# -- views ------------------------------------------------------------------------------------

@bp.route("/", methods=["GET", "POST"])
@require("operator")
def upload():
    form = UploadForm()
    if request.method == "GET" and request.args.get("kind") in ("accounts", "payments"):
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        f = form.file.data
        name = os.path.basename(f.filename or "upload")[:200]
        data = f.read()
        try:
            table = parsing.read_table(data, name, limits())
        except ImportRefused as refused:
            flash(str(refused), "error")
            return render_template("imports/upload.html", form=form, refused=str(refused)), 400
        kind = form.kind.data
        _sweep()
        token = secrets.token_hex(16)
        _save(token, {"user": current_user.id, "kind": kind, "filename": name,
                      "new_period": bool(form.new_period.data),
                      "mapping": parsing.guess_mapping(table.headers, _fields(kind)),
                      "table": table.to_json()})
        return redirect(url_for("imports.preview", token=token))
    status = 400 if request.method == "POST" else 200
    return render_template("imports/upload.html", form=form, refused=None), status


@bp.route("/<token>")
@require("operator")
def preview(token: str):
    state = _load(token)
    return _render_preview(token, state)


def _render_preview(token: str, state: dict, status: int = 200):
    table = Table.from_json(state["table"])
    checked, plan, problems = check(state)
    return render_template(
        "imports/preview.html", token=token, state=state, table=table,
        fields=_fields(state["kind"]), mapping=state["mapping"], problems=problems,
        checked=checked, plan=plan, sample=table.rows[:PREVIEW_ROWS],
        sample_numbers=parsing.row_numbers(table)[:PREVIEW_ROWS],
        records=(checked.records[:PREVIEW_ROWS] if checked else []),
        max_errors=MAX_ERRORS_SHOWN, form=FlaskForm()), status


@bp.route("/<token>/mapping", methods=["POST"])
@require("operator")
def mapping(token: str):
    state = _load(token)
    allowed = set(_fields(state["kind"])) | {""}
    width = len(state["table"]["headers"])
    chosen = [request.form.get(f"col{k}", "") for k in range(width)]
    state["mapping"] = [c if c in allowed else "" for c in chosen]
    if state["kind"] == "accounts":
        state["new_period"] = request.form.get("new_period") == "y"
    _save(token, state)
    return redirect(url_for("imports.preview", token=token))


@bp.route("/<token>/save", methods=["POST"])
@require("operator")
def save(token: str):
    state = _load(token)
    checked, plan, problems = check(state)
    if problems or plan.errors:
        flash(_("Nothing was saved: the file has %(n)d problems. Fix them in the file and upload it again.",
                n=len(problems) + (len(plan.errors) if plan else 0)), "error")
        return _render_preview(token, state, 400)
    s = db()
    if state["kind"] == "accounts":
        result = applying.apply_accounts(s, checked, plan, new_period=state.get("new_period", False),
                                         department=current_user.department)
        audit(s, "import.accounts", f"file:{state['filename']}", rows=len(state["table"]["rows"]),
              **result)
        message = _("Imported %(rows)d rows: %(created)d new accounts, %(updated)d updated, "
                    "%(merged)d duplicate rows merged.", rows=len(state["table"]["rows"]),
                    created=result["created"], updated=result["updated"], merged=result["merged_rows"])
        target = url_for("accounts.index")
    else:
        result = applying.apply_payments(s, checked, plan, actor=current_user.username)
        audit(s, "import.payments", f"file:{state['filename']}", rows=len(state["table"]["rows"]),
              **result)
        message = _("Recorded %(n)d payments; those accounts will not be called again.",
                    n=result["paid"])
        target = url_for("accounts.index", paid="paid")
    s.commit()
    _path(token).unlink(missing_ok=True)
    flash(message, "success")
    return redirect(target)


@bp.route("/<token>/errors.csv")
@require("operator")
def errors_csv(token: str):
    state = _load(token)
    _checked, plan, problems = check(state)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Value"), _("Problem")])
    for problem in problems:
        writer.writerow(["", "", "", problem])
    for e in (plan.errors if plan else []):
        from admin.exports import safe
        writer.writerow([e.row, safe(e.column), safe(e.value), safe(e.message)])
    body = out.getvalue().encode("utf-8-sig")
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=import-errors.csv"})
