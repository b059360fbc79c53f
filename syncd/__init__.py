"""syncd: turns "no" from CRMs and inboxes into well-timed, gentle follow-ups."""

__version__ = "0.1.0"
