"""Creating accounts with phones and a started campaign in one go (demo, tests, bench)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from ivr.storage.models import Account, Campaign, CampaignKind, Phone

from . import campaigns


def campaign_with_accounts(session: Session, name: str, accounts: list[dict], *,
                           kind: CampaignKind = CampaignKind.ARREARS, start: bool = True,
                           actor: str = "system", now: datetime | None = None,
                           **campaign_fields) -> Campaign:
    """accounts: dicts of Account fields plus "phones": [numbers]. Commits."""
    campaign = Campaign(name=name, kind=kind, **campaign_fields)
    session.add(campaign)
    session.flush()
    ids = []
    for fields in accounts:
        fields = dict(fields)
        phones = fields.pop("phones")
        account = Account(**fields, phones=[Phone(number=n, position=i) for i, n in enumerate(phones)])
        session.add(account)
        session.flush()
        ids.append(account.id)
    campaigns.add_accounts(session, campaign, ids)
    if start:
        campaigns.start(session, campaign, now or datetime.now(timezone.utc), actor)
    session.commit()
    return campaign
