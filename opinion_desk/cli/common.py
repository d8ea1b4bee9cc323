"""Helpers shared by the subcommands."""

from __future__ import annotations

import click

from ..config import Config, load_config
from ..errors import ConfigError


def get_config(ctx: click.Context | None = None) -> Config:
    """The effective config for this invocation; a bad config is a clean error naming file and field."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    obj = root.obj or {}
    if "config" not in obj:
        try:
            obj["config"] = load_config(obj.get("config_path"))
        except ConfigError as e:
            raise click.ClickException(f"配置有误：{e}") from None
        root.obj = obj
    return obj["config"]


def open_statedb(ctx: click.Context | None = None):  # noqa: ANN201
    """The state database of this invocation's config, with its tables created (and upgraded)."""
    from ..state import StateDB

    cfg = get_config(ctx)
    cfg.data_path().mkdir(parents=True, exist_ok=True)
    db = StateDB(cfg.state_url())
    db.create_all()
    return db
