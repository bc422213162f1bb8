"""Evaluation of the story engine on labelled sets: the same code as production, driven from files."""
