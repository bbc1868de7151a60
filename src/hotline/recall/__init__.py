"""Recall of missed callers: who is owed a call back, by when, and how the calls went (pure).

:mod:`~hotline.recall.rules` reads the ``recall:`` section of center.yaml,
:mod:`~hotline.recall.tasks` turns ended calls into tasks and attempts into outcomes,
:mod:`~hotline.recall.figures` computes the recall figures, each explainable task by task.
"""
