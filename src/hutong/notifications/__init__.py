"""Notifications (通知): in-app messages per organization and signed webhooks, sent after commit."""
