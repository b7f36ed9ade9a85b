"""Human review of held decisions: the queue, claims, decisions, four eyes, and safeguards.

Service functions, callable from Python (reads take a ``Session``; writer jobs take a ``Batch``
and run through ``LedgerWriter.submit`` / ``run_job``):

- :func:`.cases.queue`, :func:`.cases.review_case`: what a reviewer sees (blind-first aware).
- :func:`.service.claim`, :func:`.service.release`; jobs :func:`.service.decide`,
  :func:`.service.approve` (four eyes).
- :func:`.judgements.record_judgement`: a blind-first judgement, before the model is shown.
- job :func:`.appeals.appeal`: a customer's appeal, statement sealed in the ledger.
- :func:`.seeded.prepare_seeded_case` then job :func:`.seeded.record_seeded_case`.
- job :func:`.escalation.escalate_overdue` (scheduled by the app), deadlines in :mod:`.clocks`.
- :func:`.stats.reviewer_stats`: per-reviewer figures and the automation-bias warning.
"""
