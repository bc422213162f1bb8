"""The offline demo: a small corpus of feeds written for aggregator, shipped inside the package.

Fictional outlets report fictional events over four days: several outlets covering the same events in
different words, a wire story republished verbatim, follow-up stories days later, unrelated single
reports, and one broken feed. ``feeds/manifest.json`` lists the feeds and the stories the corpus is
written to produce; :mod:`aggregator.demo.corpus` reads it and shifts the dates to the present.
"""
