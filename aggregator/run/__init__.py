"""Run: the stages in order, once (`aggregator run`, cron) or on a schedule (`aggregator daemon`).

pipeline (the step runner: every command and the daemon run steps through it)
records (one `runs` row per step), locking (one writer at a time), scheduler (APScheduler),
status (`aggregator status`: counts, feed health, last runs)
"""
