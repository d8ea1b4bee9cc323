"""Configuration: defaults, one TOML file, environment overrides, validation with named errors.

Precedence (lowest first): the defaults below, the TOML file (``--config FILE``, else ``$OPINION_DESK_CONFIG``,
else ``opinion-desk.toml`` in the working directory if present), then environment variables of the form
``OPINION_DESK__SECTION__KEY`` (e.g. ``OPINION_DESK__STORE__BACKEND=elasticsearch``). Environment values are
parsed as TOML values where they parse (``true``, ``5``, ``["a","b"]``), else taken as strings.

Every key is declared in :data:`SCHEMA` with its type, default and a line of documentation; ``opinion-desk
config check`` prints the effective values and every problem, each naming the file and the field.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

ENV_PREFIX = "OPINION_DESK__"


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    default: Any
    doc: str
    choices: tuple[Any, ...] | None = None
    secret: bool = False  # never printed: config check, logs, the audit log and pages show "***"


# section -> key -> Key. Nested tables use dotted section names ("store.elasticsearch").
SCHEMA: dict[str, dict[str, Key]] = {
    "desk": {
        "host": Key(str, "127.0.0.1", "address the web desk listens on"),
        "port": Key(int, 5000, "port the web desk listens on"),
        "data_dir": Key(str, "var", "where the desk keeps its databases, spool, evidence and models (relative to the working directory)"),
        "secret_key": Key(str, "", "Flask secret key; generated and kept in data_dir when empty", secret=True),
        "timezone": Key(str, "Asia/Shanghai", "time zone the desk shows times in"),
        "demo": Key(bool, False, "replay demo posts so the live feed moves"),
        "demo_interval": Key((int, float), 3.0, "seconds between demo batches"),
        "web_threads": Key(int, 256, "threads of the web server (gunicorn gthread): each open dashboard holds one for its WebSocket, so keep it above the number of browsers plus API callers"),
        "allowed_origins": Key(list, [], "pages allowed to open the live feed besides the desk's own origin (scheme://host:port as the browser sees it), e.g. [\"https://desk.example.gov.cn\"]"),
        "trusted_proxies": Key(int, 0, "reverse proxies in front of the desk (nginx: 1) whose X-Forwarded-For/-Proto/-Host are believed, so the audit log and the login limits see each browser's own address; 0 = none"),
        "message_queue": Key(str, "", "Socket.IO message queue (redis://host:6379/0) so every desk process can emit to every browser; empty = one process"),
        "replay_minutes": Key((int, float), 10, "a reconnecting browser gets the live events it missed within this many minutes (else it reloads)"),
        "replay_max_mb": Key((int, float), 32, "cap on the replay buffer (JSON size of the kept events, MB)"),
    },
    "store": {
        "backend": Key(str, "sqlite", "post store: 'sqlite' (embedded) or 'elasticsearch'", ("sqlite", "elasticsearch")),
        "sqlite_path": Key(str, "posts.db", "embedded store file (relative to data_dir)"),
        "spool_dir": Key(str, "spool", "where posts wait when the store is down (relative to data_dir)"),
        "retention_days": Key(int, 400, "posts older than this many days are dropped (whole time-based indices in Elasticsearch); 0 = keep forever, as evidence_days"),
    },
    "store.elasticsearch": {
        "urls": Key(list, ["http://127.0.0.1:9200"], "cluster URLs"),
        "api_key": Key(str, "", "API key (base64 'id:key' or encoded form)", secret=True),
        "username": Key(str, "", "basic-auth user"),
        "password": Key(str, "", "basic-auth password", secret=True),
        "ca_certs": Key(str, "", "path of the CA certificate for https clusters"),
        "verify_certs": Key(bool, True, "verify the cluster's TLS certificate"),
        "index_prefix": Key(str, "opinion-posts", "prefix of the time-based post indices; the alias has this name"),
        "index_period": Key(str, "month", "one index per 'day' or 'month'", ("day", "month")),
        "request_timeout": Key((int, float), 30, "seconds per request"),
        "number_of_shards": Key(int, 1, "primary shards of each new post index (fixed once an index exists)"),
        "number_of_replicas": Key(int, 1, "replicas of each shard, at most: as many as the cluster has spare data nodes (a single node stays green); put on existing indices at start"),
    },
    "es_node": {
        "version": Key(str, "8.19.7", "Elasticsearch version fetched from Maven Central (the one pinned place)"),
        "home": Key(str, "", "where the server is cached, unpacked and keeps its data; empty = ~/.cache/opinion-desk/elasticsearch (root: /var/lib/opinion-desk/elasticsearch)"),
        "port": Key(int, 9200, "HTTP port of the local node (127.0.0.1 only)"),
        "java_home": Key(str, "", "JDK for the node; empty = find a supported one"),
        "heap": Key(str, "512m", "JVM heap of the local node"),
        "user": Key(str, "opinion-es", "unprivileged user the node runs as when started by root"),
    },
    "state": {
        "url": Key(str, "", "SQLAlchemy URL of the state database, e.g. postgresql://desk:PASSWORD@db-host/opinion_desk (pip install 'opinion-desk[postgres]'; needed by several desk processes); empty = sqlite file state.db in data_dir"),
    },
    "ingest": {
        "tokens": Key(list, [], "API tokens accepted by POST /api/v1/posts (header 'Authorization: Bearer TOKEN')", secret=True),
        "max_batch": Key(int, 1000, "most items in one ingest request"),
        "max_body_bytes": Key(int, 8 * 1024 * 1024, "largest request body (bytes) the desk reads; a bigger one is refused with 413 before it is parsed"),
        "min_date": Key(str, "2000-01-01", "posts dated before this (a date or time; naive = Beijing time) are refused, each named"),
        "max_future": Key(str, "1d", "posts dated later than now plus this duration (e.g. 1d, 2h) are refused, each named"),
    },
    "analysis": {
        "user_dict": Key(str, "", "extra jieba user dictionary file (word [freq] [tag] per line)"),
        "workers": Key(int, 0, "analysis processes for batch work; 0 = one per core"),
    },
    "collectors": {
        "sources_dir": Key(str, "sources", "directory of sources/*.yaml"),
        "demo_file": Key(str, "", "JSONL replayed by the demo collector; empty = the shipped demo posts"),
        "alert_after": Key(int, 3, "a source failing this many runs in a row raises an alert (per source: alert_after)"),
        "backoff_max": Key((int, float), 3600, "longest wait (seconds) between runs of a failing source"),
        "run_timeout": Key((int, float), 300, "seconds one run of a source may take before it is cut off"),
        "request_timeout": Key((int, float), 20, "seconds per HTTP request (per source: timeout)"),
        "host_interval": Key((int, float), 1.0, "least seconds between two requests to the same host, across sources"),
        "evidence": Key(bool, True, "keep every collected raw payload in the evidence archive (gzip JSONL)"),
        "evidence_dir": Key(str, "evidence", "where the evidence archive lives (relative to data_dir)"),
        "evidence_days": Key(int, 400, "archived payloads older than this many days are removed (0 = keep forever)"),
        "alert_channels": Key(list, [], "channels (besides the dashboard) that hear of a failing source or an expired login"),
        "accounts": Key(dict, {}, "author types by account name or platform id: gov, media or person, e.g. {某某县发布 = \"gov\"}"),
    },
    "rules": {
        "dir": Key(str, "rules", "directory of the YAML rule files"),
        "tick_seconds": Key((int, float), 10, "how often window rules are evaluated"),
        "allowed_lateness": Key(str, "2h", "a post this much older than now is still current: counted in its own time's window and alerted (shown as late); older posts are history"),
        "alert_history": Key(bool, False, "history (imports, replays, a crawler catching up: posts older than allowed_lateness) raises alerts too; false = it only builds the windows and baselines"),
    },
    "auth": {
        "secure_cookies": Key(bool, False, "send the session cookie only over HTTPS (set true behind TLS)"),
        "session_hours": Key(int, 12, "a login lasts this many hours"),
        "login_max_failures": Key(int, 5, "failed logins of one account before each further login waits (1 minute after the last failure, doubling, at most the window); a browser that logged in as the user before is counted on its own"),
        "login_window_minutes": Key(int, 15, "the window of the login limits, and the longest wait, minutes"),
        "login_address_max_failures": Key(int, 50, "failed logins from one client address (any usernames) before that address waits out the window; higher than per account, as an office shares one address"),
        "login_spray_accounts": Key(int, 5, "one password that failed for this many different usernames is refused for every username until the window passes (password spraying)"),
    },
    "incidents": {
        "major_levels": Key(list, ["特别重大", "重大"], "incident levels that are major emergencies (国办发〔2016〕61号)"),
        "levels": Key(list, ["特别重大", "重大", "较大", "一般"], "incident levels, most severe first"),
        "default_level": Key(str, "一般", "level of a new incident when none is given"),
        "major_info_hours": Key((int, float), 5, "major emergencies: authoritative information within (hours)"),
        "major_press_hours": Key((int, float), 24, "major emergencies: press conference within (hours)"),
        "response_hours": Key((int, float), 48, "other government-related opinion: response within (hours)"),
        "escalate_at": Key(list, [0.5, 0.8, 1.0], "escalate to approvers at these fractions of a deadline (1.0 = overdue)"),
        "tick_seconds": Key((int, float), 30, "how often deadlines and reminders are checked"),
        "routing_file": Key(str, "jurisdictions.yaml", "jurisdiction table (属地管理): places/organisations -> department; when absent, the demo uses the shipped 青山县 example (`opinion-desk incidents routes --example` prints it)"),
        "hot_minutes": Key((int, float), 120, "a published topic counts as hot while it had posts within (minutes)"),
        "remind_every_minutes": Key((int, float), 60, "remind to keep publishing (持续发布) this often while hot"),
        "escalation_channels": Key(list, [], "alert channels escalations go to ([alerting] channels; empty = all)"),
        "publisher": Key(str, "", "how answers are published: 'platform' (the Weibo/WeChat APIs), 'demo' (演示: nothing leaves the desk, marked 演示 everywhere); empty = 'demo' under `run --demo`, else 'platform'", ("", "platform", "demo")),
        "public_base_url": Key(str, "", "public address of this desk's read-only statement pages (/statements/<token>), the default link of the Weibo summary; must lie under the Weibo app's bound safe domain"),
        "recheck_minutes": Key((int, float), 60, "re-check that published answers are still live this often (minutes)"),
        "recheck_days": Key((int, float), 30, "keep re-checking an answer this many days after publishing"),
        "snapshot_private_hosts": Key(bool, False, "let recorded publication links on loopback/private addresses be fetched (off: a pasted link cannot make the desk reach into the office network)"),
        "allow_self_approval": Key(bool, False, "a one-person office: an approver may approve a draft they wrote (each such approval is audited as a self-approval); default false = four eyes (双人审核)"),
    },
    "incidents.weibo": {
        "base_url": Key(str, "https://api.weibo.com", "Weibo API base URL"),
        "access_token": Key(str, "", "OAuth2 access token of the office's Weibo account", secret=True),
        "safe_url": Key(str, "", "a URL of the office's registered safe domain; statuses/share needs one in the text"),
        "account": Key(str, "", "the office's Weibo screen name (to recognise our own posts)"),
        "safe_domain": Key(str, "", "the Weibo app's bound safe domain (安全域名); the link in statuses/share must lie under it (empty = the host of safe_url)"),
        "link_url": Key(str, "", "the office's own page for the full statement; empty = this desk's statement page under [incidents] public_base_url"),
        "rip": Key(str, "", "the operator's real public IP reported as statuses/share `rip`; empty = the address of the officer who clicks 发布"),
        "pic_file": Key(str, "", "optional picture sent with every Weibo answer (JPEG/GIF/PNG under 5 MB, e.g. the office's 通报 banner)"),
    },
    "incidents.wechat": {
        "base_url": Key(str, "https://api.weixin.qq.com", "WeChat Official Account API base URL"),
        "appid": Key(str, "", "Official Account AppID"),
        "secret": Key(str, "", "Official Account AppSecret", secret=True),
        "author": Key(str, "", "article author"),
        "thumb_media_id": Key(str, "", "permanent media id of the cover image"),
        "account": Key(str, "", "the Official Account's name (to recognise our own articles)"),
        "publish_mode": Key(str, "mass", "'mass': draft/add then message/mass/sendall to all followers (群发, counts against the quota); 'freepublish': publish without pushing to followers (发布 is not 群发) — choose it knowingly", ("mass", "freepublish")),
        "account_type": Key(str, "subscription", "'subscription' (订阅号: 1 mass send a day) or 'service' (服务号: 4 a month)", ("subscription", "service")),
    },
    "briefings": {
        "daily_at": Key(str, "08:00", "舆情简报: the daily briefing of the day before is made and mailed at this local time (HH:MM, [desk] timezone); empty = no scheduled briefings"),
        "weekly_on": Key(str, "mon", "the weekly briefing of the last whole week (Mon-Sun) is made on this day at daily_at: mon, tue, wed, thu, fri, sat or sun; empty = none"),
        "recipients": Key(list, [], "who gets the scheduled briefings by mail: email addresses or desk usernames (their account's email), e.g. [\"lizr\", \"leader@example.gov.cn\"]"),
        "channel": Key(str, "email", "the email channel ([alerting]) the briefings go through"),
        "issuer": Key(str, "舆情值班台", "the office named on the briefing's masthead (e.g. 青山县委宣传部网络舆情中心)"),
    },
    "alerting": {
        "smtp_host": Key(str, "", "SMTP server for alert email; empty = no email"),
        "smtp_port": Key(int, 25, "SMTP port"),
        "smtp_user": Key(str, "", "SMTP user"),
        "smtp_password": Key(str, "", "SMTP password", secret=True),
        "smtp_starttls": Key(bool, False, "use STARTTLS"),
        "mail_from": Key(str, "opinion-desk@localhost", "From address of alert email"),
        "mail_to": Key(list, [], "recipients of the built-in 'email' channel (a rule names it in channels)"),
        "channels_file": Key(str, "", "YAML file of channel definitions (robots, webhooks, mail lists); empty = none"),
        "channels": Key(dict, {}, "channel definitions by name, e.g. [alerting.channels.\"值班群\"] type = \"wecom\" url = ... (a non-ASCII name is quoted in TOML)"),
        "desk_url": Key(str, "", "the desk's address, for links in alert messages (e.g. http://10.0.0.5:5000)"),
        "outbox_seconds": Key((int, float), 15, "how often the outbox retries due deliveries"),
        "max_attempts": Key(int, 8, "deliveries tried this many times before they are marked failed"),
        "retry_base_seconds": Key((int, float), 30, "first retry delay; doubles each attempt (capped at 1 h)"),
        "group_wait": Key(str, "30s", "alerts of several rules on one event (a shared post) within this wait go out as one message per channel; 0s = each alert at once"),
    },
    "audit": {
        "digest_recipients": Key(list, [], "leaders who receive the daily signed digest of the audit chain by email (needs [alerting] smtp_host), e.g. [\"zhuren@example.gov.cn\"]"),
        "key_file": Key(str, "audit.key", "HMAC key that signs the digests (relative to data_dir; made on first use, mode 0600); keep a copy away from the database"),
    },
}


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return t.__name__


def defaults() -> dict[str, dict[str, Any]]:
    return {sec: {k: copy.deepcopy(key.default) for k, key in keys.items()} for sec, keys in SCHEMA.items()}


def _is_table_name(name: str) -> bool:
    return name in SCHEMA or any(sec.startswith(name + ".") for sec in SCHEMA)


def _flatten_toml(data: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Nested TOML tables -> {"section.sub": {key: value}}. An unknown table keeps its dotted name (so it is
    reported as an unknown section); a value outside any table goes under ``""``."""
    out: dict[str, dict[str, Any]] = {}
    for k, v in data.items():
        name = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and (_is_table_name(name) or not prefix):
            out.setdefault(name, {})
            for sec, values in _flatten_toml(v, name).items():
                out.setdefault(sec, {}).update(values)
        else:
            out.setdefault(prefix, {})[k] = v
    return {sec: values for sec, values in out.items() if values or sec in SCHEMA}


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


class Config(dict):
    """The effective configuration: ``cfg["store"]["backend"]``, plus where each value came from."""

    origin: dict[str, str]
    file: str | None

    def data_path(self, *parts: str) -> Path:
        base = Path(os.path.expanduser(self["desk"]["data_dir"]))
        return base.joinpath(*parts)

    def state_url(self) -> str:
        return self["state"]["url"] or f"sqlite:///{self.data_path('state.db').resolve()}"


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None,
                overrides: dict[str, dict[str, Any]] | None = None, strict: bool = True) -> Config:
    """Load, merge and validate. Raises :class:`ConfigError` listing every problem when ``strict``."""
    env = dict(os.environ) if env is None else env
    cfg = Config(defaults())
    cfg.origin = {f"{s}.{k}": "default" for s, keys in SCHEMA.items() for k in keys}
    cfg.file = None
    problems: list[str] = []

    if path is None:
        path = env.get("OPINION_DESK_CONFIG") or ("opinion-desk.toml" if Path("opinion-desk.toml").exists() else None)
    if path is not None:
        p = Path(path)
        cfg.file = str(p)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(["配置文件不存在"], str(p)) from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError([f"不是有效的 TOML：{e}"], str(p)) from None
        for sec, values in _flatten_toml(data).items():
            if sec not in SCHEMA:
                problems.append(f"{p}: 键 {sorted(values)} 不在任何 [节] 之下" if not sec
                                else f"{p}: 未知的节 [{sec}]")
                continue
            for k, v in values.items():
                cfg[sec][k] = v
                cfg.origin[f"{sec}.{k}"] = str(p)

    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        if len(parts) < 2:
            problems.append(f"环境变量 {name}：格式应为 {ENV_PREFIX}SECTION__KEY")
            continue
        sec, key = ".".join(parts[:-1]), parts[-1]
        if sec not in SCHEMA:
            problems.append(f"环境变量 {name}：未知的节 [{sec}]")
            continue
        cfg[sec][key] = _parse_env_value(raw)
        cfg.origin[f"{sec}.{key}"] = f"environment {name}"

    for sec, values in (overrides or {}).items():
        for k, v in values.items():
            cfg.setdefault(sec, {})[k] = v
            cfg.origin[f"{sec}.{k}"] = "test_config"

    problems.extend(validate(cfg))
    if problems and strict:
        raise ConfigError(problems, cfg.file)
    cfg.problems = problems  # type: ignore[attr-defined]
    return cfg


def validate(cfg: Config) -> list[str]:
    problems: list[str] = []
    for sec, keys in SCHEMA.items():
        values = cfg.get(sec, {})
        for k, v in values.items():
            where = cfg.origin.get(f"{sec}.{k}", "?")
            if k not in keys:
                problems.append(f"[{sec}] {k}: 未知的键（来自 {where}）")
                continue
            spec = keys[k]
            ok_types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
            if isinstance(v, bool) and bool not in ok_types:
                ok = False
            else:
                ok = isinstance(v, ok_types)
            if not ok:
                shown = REDACTED if spec.secret else repr(v)  # a mistyped secret is still a secret
                problems.append(f"[{sec}] {k}: 应为 {_type_name(spec.type)}，收到 {type(v).__name__} {shown}（来自 {where}）")
                continue
            if spec.choices and v not in spec.choices:
                problems.append(f"[{sec}] {k}: {v!r} 不是可选值之一 {list(spec.choices)}（来自 {where}）")
    port = cfg["desk"].get("port")
    if isinstance(port, int) and not (0 < port < 65536):
        problems.append(f"[desk] port: {port} 不是有效的 TCP 端口（来自 {cfg.origin.get('desk.port')}）")
    problems.extend(validate_values(cfg, problems))
    return problems


def validate_values(cfg: Config, earlier: list[str]) -> list[str]:
    """Meaning, beyond type: time zones, levels, fractions, retention (0 = keep forever, never negative).
    Keys that already failed their type check are skipped. Messages are Chinese and name the field."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    bad_fields = {p.split(":")[0] for p in earlier}
    out: list[str] = []

    def get(sec: str, key: str) -> Any:
        return None if f"[{sec}] {key}" in bad_fields else cfg.get(sec, {}).get(key)

    def err(sec: str, key: str, msg: str) -> None:
        out.append(f"[{sec}] {key}: {msg} (from {cfg.origin.get(f'{sec}.{key}', '?')})")

    tz = get("desk", "timezone")
    if isinstance(tz, str):
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            err("desk", "timezone", f"时区 {tz!r} 不存在（IANA 时区名，如 \"Asia/Shanghai\"）")
    levels = get("incidents", "levels")
    if isinstance(levels, list):
        if not levels or not all(isinstance(x, str) and x for x in levels) or len(set(levels)) != len(levels):
            err("incidents", "levels", "事件级别须为不重复的非空文字列表，最严重的在前")
        else:
            lv = get("incidents", "default_level")
            if isinstance(lv, str) and lv not in levels:
                err("incidents", "default_level", f"{lv!r} 不是 [incidents] levels 中的级别（{'、'.join(levels)}）")
            major = get("incidents", "major_levels")
            if isinstance(major, list):
                unknown = [x for x in major if x not in levels]
                if unknown:
                    err("incidents", "major_levels", f"{unknown} 不在 [incidents] levels（{'、'.join(levels)}）中")
    fr = get("incidents", "escalate_at")
    if isinstance(fr, list):
        nums = [x for x in fr if isinstance(x, (int, float)) and not isinstance(x, bool)]
        if len(nums) != len(fr) or not all(0 < x <= 1 for x in nums):
            err("incidents", "escalate_at", f"{fr!r}：每一项须是时限的比例，大于 0、不超过 1（1.0 = 已超时）")
        elif any(b <= a for a, b in zip(nums, nums[1:])):
            err("incidents", "escalate_at", f"{fr!r}：比例须从小到大排列、不重复")
    for sec, key in (("store", "retention_days"), ("collectors", "evidence_days")):
        v = get(sec, key)
        if isinstance(v, int) and v < 0:
            err(sec, key, f"{v} 不能为负数（0 = 永久保留）")
    replicas = get("store.elasticsearch", "number_of_replicas")
    if isinstance(replicas, int) and replicas < 0:
        err("store.elasticsearch", "number_of_replicas", f"{replicas} 不能为负数（0 = 不要副本）")
    for sec, key in POSITIVE:  # periods, deadlines, limits: 0 would spin, expire at once or refuse everything
        v = get(sec, key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v <= 0:
            err(sec, key, f"{v} 须大于 0")
    _check_ingest_window(get, err)
    _check_state_url(get, err)
    return out


def _check_state_url(get: Any, err: Any) -> None:
    """[state] url: a URL of a database the desk can reach through an installed driver (a PostgreSQL URL without
    psycopg is named here, with its install command, not as a ModuleNotFoundError at the first query)."""
    url = get("state", "url")
    if isinstance(url, str) and url:
        from .state.url import problem

        why = problem(url)
        if why:
            err("state", "url", why)


def _check_ingest_window(get: Any, err: Any) -> None:
    """[ingest] min_date must be a date or time, max_future a duration (collectors/validate.py reads them)."""
    from .detection.durations import parse_duration
    from .errors import InputError
    from .models import parse_time

    md = get("ingest", "min_date")
    if isinstance(md, str):
        try:
            parse_time(md, "min_date", "[ingest]")
        except InputError:
            err("ingest", "min_date", f"{md!r} 不是日期或时间（如 \"2000-01-01\"）")
    mf = get("ingest", "max_future")
    if isinstance(mf, str):
        try:
            parse_duration(mf)
        except ValueError:
            err("ingest", "max_future", f"{mf!r} 不是时长（如 \"1d\"、\"12h\"）")
    for sec, key in (("rules", "allowed_lateness"), ("alerting", "group_wait")):
        v = get(sec, key)
        if isinstance(v, str) and v.strip() not in ("0", "0s"):
            try:
                parse_duration(v)
            except ValueError:
                err(sec, key, f"{v!r} 不是时长（如 \"2h\"、\"30s\"）")


POSITIVE = [("rules", "tick_seconds"), ("incidents", "tick_seconds"), ("alerting", "outbox_seconds"),
            ("alerting", "max_attempts"), ("alerting", "retry_base_seconds"), ("auth", "session_hours"),
            ("auth", "login_max_failures"), ("auth", "login_window_minutes"), ("auth", "login_address_max_failures"),
            ("auth", "login_spray_accounts"), ("ingest", "max_batch"), ("collectors", "run_timeout"),
            ("collectors", "request_timeout"), ("incidents", "major_info_hours"), ("incidents", "major_press_hours"),
            ("incidents", "response_hours"), ("store.elasticsearch", "request_timeout"),
            ("store.elasticsearch", "number_of_shards")]


def render(cfg: Config) -> str:
    """The effective configuration as TOML, each value with where it came from."""
    lines: list[str] = []
    if cfg.file:
        lines.append(f"# file: {cfg.file}")
    for sec, keys in SCHEMA.items():
        lines.append(f"\n[{sec}]")
        for k, spec in keys.items():
            v = cfg[sec].get(k)
            shown = redact(sec, k, v)
            lines.append(f"{k} = {_toml_value(shown)}  # {spec.doc} [{cfg.origin.get(f'{sec}.{k}', 'default')}]")
    return "\n".join(lines).lstrip() + "\n"


REDACTED = "***"
_URL_SECRET = re.compile(r"(?i)^(\w+://)([^/@:]*):([^/@]*)@")  # scheme://user:password@host


def _redact_url(url: str) -> str:
    """A URL without its password (``postgresql://desk:***@db/desk``)."""
    return _URL_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}:{REDACTED}@", url)


def _redact_channel(conf: Any) -> Any:
    """A channel definition with its credentials hidden: ``secret`` and ``headers`` values, and the webhook
    URL's path and query (WeCom ``key=``, DingTalk ``access_token=``, Feishu's hook id are the credentials)."""
    if not isinstance(conf, dict):
        return conf
    out = dict(conf)
    for k, v in conf.items():
        if k in ("secret", "token", "password", "smtp_password") and v:
            out[k] = REDACTED
        elif k == "headers" and isinstance(v, dict):
            out[k] = {h: REDACTED for h in v}
        elif k == "url" and isinstance(v, str):
            m = re.match(r"^(\w+://[^/?#]+)", v)
            out[k] = f"{m.group(1)}/{REDACTED}" if m and v != m.group(1) else _redact_url(v)
    return out


def redact(sec: str, key: str, value: Any) -> Any:
    """A value as it may be shown: secrets (``Key(..., secret=True)``) as ``***``, passwords inside URLs and
    robot credentials inside channel definitions hidden."""
    spec = SCHEMA.get(sec, {}).get(key)
    if spec is not None and spec.secret:
        if isinstance(value, list):
            return [REDACTED for _ in value]
        return REDACTED if value else value
    if sec == "alerting" and key == "channels" and isinstance(value, dict):
        return {name: _redact_channel(conf) for name, conf in value.items()}
    if isinstance(value, str) and "://" in value:
        return _redact_url(value)
    if isinstance(value, list):
        return [_redact_url(x) if isinstance(x, str) else x for x in value]
    return value


def redacted(cfg: Config) -> dict[str, dict[str, Any]]:
    """The whole configuration as plain data with every secret redacted (for the audit log, logs and pages)."""
    return {sec: {k: redact(sec, k, v) for k, v in cfg.get(sec, {}).items()} for sec in SCHEMA}


def example() -> str:
    """A documented config file with every key at its default (``opinion-desk config example``)."""
    lines = ["# Opinion Desk configuration. Every key is optional; shown here at its default.",
             "# Environment overrides: OPINION_DESK__SECTION__KEY (e.g. OPINION_DESK__STORE__BACKEND=elasticsearch)."]
    for sec, keys in SCHEMA.items():
        lines.append(f"\n[{sec}]")
        for k, spec in keys.items():
            choices = f" (one of {', '.join(map(str, spec.choices))})" if spec.choices else ""
            lines.append(f"# {spec.doc}{choices}")
            lines.append(f"{k} = {_toml_value(spec.default)}")
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_value(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'
