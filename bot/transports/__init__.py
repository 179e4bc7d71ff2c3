"""Channels users reach newsbot through: the console and Discord."""
