"""Alerting: the outbox and one file per channel (``channels/``: dashboard, email, wecom, dingtalk, feishu,
webhook), templates per channel (``templates/``), and the dispatcher fed by the rule engine."""
