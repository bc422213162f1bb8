"""Stories: stored articles in, stories, copies, related stories and topics out.

Pure decision logic (no database, network or clock; tests/test_purity.py walks their imports):
    doc (ArticleDoc and article_doc: what the engine sees, built one way for rows and evaluation files),
    text and terms (tokens and features), dedupe (copies), engine (incremental story clustering),
    related ("More on this story"), topics, coverage (a story's originals, copies, outlets and lead).
Database glue beside them:
    cluster (`aggregator cluster`: rows -> engine -> Story rows), links (related lists and topics rows).
"""
