"""The one write pipeline: every change made through this server (pipeline.py runs them).

A tool says what it wants changed (change.py: EditGroup, SetRole, DeleteGroup, CreateGroup, UndoOf);
the pipeline takes the turns (turns.py), settles or refuses earlier unsettled changes (unsettled.py),
reads fresh and plans the steps (reads.py, plan.py, edits.py, undo_plan.py), journals before sending,
sends and settles each step (send.py, steps.py), and words the answer (answers.py). The job runs
owned by the server, not by the call (owned.py); a delete needs a human's yes (confirm.py).
"""
