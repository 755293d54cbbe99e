"""The channels announcements are published to: the contract (`base.py`) and one module per
kind of channel."""
