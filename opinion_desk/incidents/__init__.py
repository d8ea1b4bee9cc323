"""Incidents: an alert a duty officer takes becomes an incident with a clock, walked to a published 双微 answer.

- lifecycle.py   states, transitions and roles; optimistic concurrency (``version``); every action audited
- desk.py        the actions (open, acknowledge, assign, level, note, draft, approve/reject, close ...)
- deadlines.py   clocks per level (国办发〔2016〕61号/80号 defaults, ``[incidents]``) and escalation pushes
- routing.py     jurisdiction table: places/organisations in the posts -> department and contacts
                 (jurisdictions.example.yaml: the 青山县 example, used by the demo when no table is configured)
- drafts.py      one draft -> Weibo post (#话题#, 2000/140 chars) and WeChat article (title, digest, body)
- check.py       own-draft check against official statements and known rumours (explainable facts)
- evidence.py    snapshots of the posts behind an incident; the store's related statements and rumours
- publish/       weibo.py, wechat.py: the platforms' documented APIs
- publishing.py  publish on both channels, verify both are live, 持续发布 reminders
- audit.py       the append-only, hash-chained audit log and its verification
- timeliness.py  per incident and per month metrics; CSV/JSON export
- records.py     what pages and the API see of an incident
- service.py     init_app (the desk, the alert listener) and start (deadline, verify and reminder jobs)
"""
