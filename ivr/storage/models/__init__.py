"""Typed SQLAlchemy 2 models, one module per area."""
from .accounts import Account, DoNotCall, Payment, Phone
from .base import Base, utcnow
from .campaigns import (Attempt, AttemptStatus, Campaign, CampaignKind, CampaignStatus, Contact,
                        ContactStatus)
from .staff import (ApiKey, AuditEntry, IdempotencyRecord, StaffUser, SystemSetting, Webhook,
                    WebhookDelivery)

__all__ = ["Account", "ApiKey", "Attempt", "AttemptStatus", "AuditEntry", "Base", "Campaign",
           "CampaignKind", "CampaignStatus", "Contact", "ContactStatus", "DoNotCall",
           "IdempotencyRecord", "Payment", "Phone", "StaffUser", "SystemSetting", "Webhook",
           "WebhookDelivery", "utcnow"]
