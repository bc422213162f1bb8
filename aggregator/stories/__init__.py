"""Stories: stored articles in, stories, copies, related stories and topics out.

Pure decision logic (no database, network or clock; a test walks their imports):
    doc (ArticleDoc: what the engine sees), text (tokens and features), dedupe (copies),
    engine (incremental story clustering), related ("More on this story"), topics.
Database glue beside them:
    cluster (`aggregator cluster`: rows -> engine -> Story rows), links (related lists and topics rows).
"""
