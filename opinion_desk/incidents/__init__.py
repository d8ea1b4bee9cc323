"""Incidents: an alert a duty officer takes becomes an incident with a clock, walked to a published 双微 answer.

- lifecycle.py   states, transitions and roles; optimistic concurrency (``version``); every action audited
- desk.py        the actions (open, acknowledge, assign, level, note, draft, approve/reject, close ...)
- deadlines.py   clocks per level (国办发〔2016〕61号/80号 defaults, ``[incidents]``) and escalation pushes
- routing.py     jurisdiction table: places/organisations in the posts -> department and contacts
                 (jurisdictions.example.yaml: the 青山县 example, used by the demo when no table is configured)
- drafts.py      one draft -> Weibo post (#话题#, 2000/140 chars) and WeChat article (title, digest, body)
- check.py       own-draft check against official statements and known rumours (explainable facts)
- evidence.py    snapshots of the posts behind an incident; the store's related statements and rumours
- publish/       one Publisher contract, one registry: weibo.py (statuses/share ≤140 字, rip, statuses/show),
                 wechat.py (draft/add + mass sendall, quota), demo.py (演示), manual.py (recorded links, snapshots)
- publishing.py  publish on both channels, record hand-made publications, pre-flight, statement links, 持续发布
- verification.py  live through the platforms (or the fetched link, or our collectors); re-check -> 官方回应失效
- audit.py       the append-only, hash-chained audit log and its verification
- timeliness.py  per incident and per month metrics; CSV/JSON export
- records.py     what pages and the API see of an incident
- service.py     init_app (the desk, the alert listener) and start (deadline, verify, re-check and reminder jobs)
"""
