"""What a staff member may see: a user with a department sees that department's campaigns and
accounts (and those that belong to no department); admins and users without one see all.
Accounts made for staff test calls never appear in lists."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, or_

from admin.db import db
from ivr.storage import Account, Campaign

TEST_ACCOUNT_PREFIX = "staff-test:"
TEST_CAMPAIGN_NAME = "test call"


def department() -> str | None:
    if not current_user.is_authenticated or current_user.is_admin:
        return None
    return current_user.department


def campaign_scope(stmt: Select) -> Select:
    dept = department()
    if dept:
        stmt = stmt.where(or_(Campaign.department == dept, Campaign.department.is_(None)))
    return stmt


def account_scope(stmt: Select) -> Select:
    stmt = stmt.where(or_(Account.external_id.is_(None),
                          ~Account.external_id.startswith(TEST_ACCOUNT_PREFIX)))
    dept = department()
    if dept:
        stmt = stmt.where(or_(Account.department == dept, Account.department.is_(None)))
    return stmt


def visible_campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    dept = department()
    if campaign is None or (dept and campaign.department not in (None, dept)):
        abort(404)
    return campaign


def visible_account(account_id: int) -> Account:
    account = db().get(Account, account_id)
    dept = department()
    if account is None or (dept and account.department not in (None, dept)):
        abort(404)
    return account
