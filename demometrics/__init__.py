"""A Prometheus-compatible demo metrics source: generated history for the local workspace's teams, served
over Prometheus's HTTP query API and evaluated by a small PromQL engine. Imports nothing from the bot."""

from demometrics.api import DemoSource, create_router

__all__ = ["DemoSource", "create_router"]
