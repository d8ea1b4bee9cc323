"""Jurisdiction routing (属地管理, 分级负责): places and organisations found in the posts -> the responsible
department and its contacts.

The table is a YAML file (``[incidents] routing_file``, default ``jurisdictions.yaml``; a commented example for
the demo county 青山县 ships as :data:`EXAMPLE`, and the demo uses it when no table is configured)::

    - department: 青山县应急管理局          # who answers
      match: [青山县, 青山镇, 县应急局]      # places / organisations, as written in posts
      region: 青山县                        # optional: also matches a post's region field
      assignee: wang                        # optional: the desk user new incidents go to
      contacts:
        - {name: 张科长, phone: "0571-0000000", email: zhang@example.gov.cn}
    - department: 县委网信办
      match: [青山县]
      fallback: true                        # optional: only when no other entry matches

Matching is explainable: every term is looked for in the posts' text, title, tokens and region; the entry with
the most matching posts wins, then the longest (most specific) term, then the earlier entry; ``fallback``
entries are considered only when no other entry matches. A bad file raises
:class:`~opinion_desk.errors.ConfigError` naming the file, the entry and the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent / "jurisdictions.example.yaml"


@dataclass
class Jurisdiction:
    department: str
    match: list[str]
    region: str = ""
    assignee: str = ""
    contacts: list[dict[str, str]] = field(default_factory=list)
    fallback: bool = False


@dataclass
class Route:
    department: str
    contacts: list[dict[str, str]]
    assignee: str
    matched: list[str]  # the terms that matched
    posts: int  # how many posts matched

    def to_dict(self) -> dict[str, Any]:
        return {"department": self.department, "contacts": self.contacts, "assignee": self.assignee,
                "matched": self.matched, "posts": self.posts}


def parse(data: Any, where: str) -> list[Jurisdiction]:
    if data is None:
        return []
    if isinstance(data, dict):
        data = data.get("jurisdictions", [])
    if not isinstance(data, list):
        raise ConfigError(["expected a list of entries (department, match, contacts)"], where)
    out = []
    for i, e in enumerate(data):
        at = f"entry {i + 1}"
        if not isinstance(e, dict):
            raise ConfigError([f"{at}: expected a mapping"], where)
        dept = e.get("department")
        if not isinstance(dept, str) or not dept.strip():
            raise ConfigError([f"{at} field 'department': missing"], where)
        match = e.get("match") or []
        if isinstance(match, str):
            match = [match]
        if not isinstance(match, list) or not all(isinstance(m, str) and m.strip() for m in match):
            raise ConfigError([f"{at} ({dept}) field 'match': expected a list of place/organisation names"], where)
        contacts = e.get("contacts") or []
        if not isinstance(contacts, list) or not all(isinstance(c, dict) for c in contacts):
            raise ConfigError([f"{at} ({dept}) field 'contacts': expected a list of {{name, phone, email}}"], where)
        region = e.get("region") or ""
        if not match and not region:
            raise ConfigError([f"{at} ({dept}): give 'match' terms or a 'region'"], where)
        fallback = e.get("fallback", False)
        if not isinstance(fallback, bool):
            raise ConfigError([f"{at} ({dept}) field 'fallback': expected true or false"], where)
        unknown = sorted(set(e) - {"department", "match", "region", "assignee", "contacts", "fallback"})
        if unknown:
            raise ConfigError([f"{at} ({dept}): unknown field(s) {unknown} (department, match, region, assignee, "
                               f"contacts, fallback)"], where)
        out.append(Jurisdiction(dept.strip(), [m.strip() for m in match], str(region),
                                str(e.get("assignee") or ""), [{k: str(v) for k, v in c.items()} for c in contacts],
                                fallback))
    return out


def load(path: str | Path) -> list[Jurisdiction]:
    """The table in ``path``; an absent file is an empty table (routing is optional)."""
    p = Path(path)
    if not p.exists():
        return []
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError([f"not valid YAML: {e}"], str(p)) from None
    return parse(data, str(p))


def table_path(cfg: Any) -> Path | None:
    """The table the desk uses: ``[incidents] routing_file`` when it exists; else, for the demo
    (``[desk] demo``), the shipped example; else None (no routing)."""
    configured = (cfg["incidents"].get("routing_file") or "").strip()
    if configured and Path(configured).expanduser().exists():
        return Path(configured).expanduser()
    if cfg["desk"].get("demo"):
        return EXAMPLE
    return None


def _post_fields(post: Any) -> tuple[str, set[str], str]:
    get = post.get if isinstance(post, dict) else lambda k, d=None: getattr(post, k, d)
    text = f"{get('title', '') or ''}\n{get('text', '') or ''}"
    return text, set(get("tokens", []) or []), get("region", "") or ""


def route(table: Iterable[Jurisdiction], posts: Iterable[Any], extra_text: str = "") -> Route | None:
    """The responsible department for these posts (and e.g. the incident title), or None."""
    fields = [_post_fields(p) for p in posts]
    if extra_text:
        fields.append((extra_text, set(), ""))
    table = list(table)
    chosen = _best([j for j in table if not j.fallback], fields)
    return chosen if chosen is not None else _best([j for j in table if j.fallback], fields)


def _best(table: list[Jurisdiction], fields: list[tuple[str, set[str], str]]) -> Route | None:
    best: tuple[int, int, int] | None = None
    chosen: Route | None = None
    for order, j in enumerate(table):
        matched: set[str] = set()
        n = 0
        for text, tokens, region in fields:
            hit = [m for m in j.match if m in text or m in tokens]
            if j.region and region and (region == j.region or j.region in region):
                hit.append(j.region)
            if hit:
                n += 1
                matched.update(hit)
        if not n:
            continue
        score = (n, max(len(m) for m in matched), -order)
        if best is None or score > best:
            best = score
            chosen = Route(j.department, j.contacts, j.assignee, sorted(matched, key=lambda m: (-len(m), m)), n)
    return chosen
