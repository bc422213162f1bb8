"""Full text: articles whose feed gave only a teaser in, their extracted page text out.

articles needing a page (per feed mode) -> guarded HTTP client + robots.txt -> page HTML
  -> worker (the only trafilatura import, in a time-limited subprocess) -> Article.extracted_text
                                                                     [`aggregator extract`: extract]
"""
