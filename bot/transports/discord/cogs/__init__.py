"""Command groups: news for everyone, subscriptions, and admin tools."""
