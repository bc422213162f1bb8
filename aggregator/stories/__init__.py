"""Stories: stored articles in, stories, copies, related stories and topics out.

Pure decision logic (no database, network or clock; tests/test_purity.py walks their imports):
    doc (ArticleDoc and article_doc: what the engine sees, built one way for rows and evaluation files),
    text (the one tokeniser: language, stop words, stems, TF-IDF) and terms (weighted terms and names),
    hygiene (each feed's boilerplate), kinds (non-news items), copies (syndicated copies), features and
    model (what the engine compares, and the learned model that weighs it), engine (incremental story
    clustering), related ("More on this story"), topics, coverage (a story's originals, copies, outlets
    and lead).
Database glue beside them:
    cluster (`aggregator cluster`: rows -> engine -> Story rows), links (related lists and topics rows).
"""
