"""Publish: the database in, a static site and an email newsletter out.

views (the site's read model: story pages, ranking, topics, archive), with a story's coverage counted by
aggregator.stories.coverage and feed health from aggregator.ingest.health
  -> render (Jinja2 site, `aggregator render`) -> atomic (build folder swapped in atomically)
  -> newsletter (digest selection, MIME, send ledger) -> mailer (SMTP or .eml files)
"""
