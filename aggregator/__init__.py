"""aggregator: a self-hosted related-story news aggregator."""

__version__ = "0.1.0"
