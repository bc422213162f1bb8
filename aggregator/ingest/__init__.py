"""Ingest: feeds in, stored articles out.

    feed list (config, CLI, OPML: feeds, opml)
      -> due feeds (schedule, pure)
      -> HTTP client (http) with the address guard (guard) -> bytes + headers
      -> parse (the only feedparser import) -> FeedData / EntryData
      -> store: articles upserted by (feed, guid), URL copies linked      [`aggregator fetch`: fetch]
      -> the feed's outlet (outlets, pure: a brand, not a host) and its health (health)

robots.txt rules (robots) and URL canonicalisation (urls) are shared with the full-text stage.
"""
