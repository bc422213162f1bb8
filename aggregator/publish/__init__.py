"""Publish: the database in, a static site and an email newsletter out.

views (the one read model of stories for site and email)
  -> render (Jinja2 site, `aggregator render`) -> atomic (build folder swapped in atomically)
  -> newsletter (digest selection, MIME, send ledger) -> mailer (SMTP or .eml files)
"""
