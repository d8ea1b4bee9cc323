"""Jurisdiction routing: places and organisations in the posts -> the responsible department."""

from __future__ import annotations

import pytest

from opinion_desk.errors import ConfigError
from opinion_desk.incidents import routing

TABLE = routing.parse([
    {"department": "青山县应急管理局", "match": ["青山县", "人民路"], "contacts": [{"name": "张科长"}]},
    {"department": "青山县教育局", "match": ["城南小学"], "assignee": "li"},
    {"department": "城东街道办", "region": "城东街道"},
], "test.yaml")


def test_most_matching_posts_then_most_specific_term():
    posts = [{"text": "网传城南小学停课"}, {"text": "城南小学门口积水", "tokens": ["城南小学"]},
             {"text": "青山县下大雨"}]
    r = routing.route(TABLE, posts)
    assert r.department == "青山县教育局" and r.assignee == "li" and r.matched == ["城南小学"] and r.posts == 2
    r = routing.route(TABLE, [{"text": "人民路积水"}])
    assert r.department == "青山县应急管理局" and r.contacts == [{"name": "张科长"}]
    assert routing.route(TABLE, [{"text": "无关内容", "region": "城东街道"}]).department == "城东街道办"
    assert routing.route(TABLE, [{"text": "无关内容"}]) is None


def test_bad_tables_name_the_entry_and_field(tmp_path):
    with pytest.raises(ConfigError, match="entry 1 field 'department'"):
        routing.parse([{"match": ["x"]}], "j.yaml")
    with pytest.raises(ConfigError, match="entry 2 .*'match'"):
        routing.parse([{"department": "a", "match": ["x"]}, {"department": "b", "match": [3]}], "j.yaml")
    p = tmp_path / "j.yaml"
    p.write_text("- department: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="j.yaml"):
        routing.load(p)
    assert routing.load(tmp_path / "absent.yaml") == []


def test_fallback_entries_only_when_nothing_else_matches():
    table = routing.parse([{"department": "县委网信办", "match": ["青山县"], "fallback": True},
                           {"department": "县教育局", "match": ["小学"]}], "t.yaml")
    assert routing.route(table, [{"text": "青山县城南小学"}, {"text": "青山县下雨"}]).department == "县教育局"
    assert routing.route(table, [{"text": "青山县下雨"}]).department == "县委网信办"
    with pytest.raises(ConfigError, match="entry 1 .*'fallback'"):
        routing.parse([{"department": "a", "match": ["x"], "fallback": "yes"}], "t.yaml")
    with pytest.raises(ConfigError, match="entry 1 .*unknown field.*'departement'"):
        routing.parse([{"department": "a", "match": ["x"], "departement": "b"}], "t.yaml")


# -- the shipped example (青山县) -------------------------------------------------------------------------
def test_shipped_example_routes_the_demo_posts_to_their_departments():
    import json
    from pathlib import Path

    table = routing.load(routing.EXAMPLE)
    depts = [j.department for j in table]
    for d in ("县应急管理局", "县教育局", "县生态环境局", "县人社局", "县卫健局", "县住建局", "县公安局", "青山镇人民政府"):
        assert d in depts
    assert all(j.contacts for j in table)  # every department has (placeholder) contacts
    demo = {}
    for line in (Path(routing.__file__).parent.parent / "demo" / "posts.jsonl").read_text(encoding="utf-8").splitlines():
        p = json.loads(line)
        demo[p["source_id"]] = p
    expect = {"demo009": "县教育局", "demo001": "县应急管理局", "demo012": "县人社局", "demo016": "县生态环境局",
              "demo030": "县卫健局", "demo023": "县住建局", "demo026": "县公安局", "demo022": "县委网信办"}
    for sid, dept in expect.items():
        r = routing.route(table, [demo[sid]])
        assert r is not None and r.department == dept, (sid, r)
    r = routing.route(table, [{"text": "城南小学食堂有学生吃坏肚子，家长都去学校了"}])
    assert r.department == "县教育局" and "城南小学" in r.matched
    assert routing.route(table, [{"text": "无关内容", "region": "白沙乡"}]).department == "白沙乡人民政府"


def test_example_is_package_data():
    import fnmatch
    import tomllib
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    globs = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    rel = routing.EXAMPLE.relative_to(repo / "opinion_desk").as_posix()
    assert any(fnmatch.fnmatch(rel, g) for g in globs["opinion_desk"])


def test_table_path_demo_falls_back_to_the_example(tmp_path):
    cfg = {"desk": {"demo": True}, "incidents": {"routing_file": str(tmp_path / "absent.yaml")}}
    assert routing.table_path(cfg) == routing.EXAMPLE
    cfg["desk"]["demo"] = False
    assert routing.table_path(cfg) is None
    own = tmp_path / "mine.yaml"
    own.write_text("- {department: 本县, match: [本县]}\n", encoding="utf-8")
    cfg["incidents"]["routing_file"] = str(own)
    cfg["desk"]["demo"] = True
    assert routing.table_path(cfg) == own  # a configured table wins, demo or not


@pytest.fixture
def demo_app_config(app_config, tmp_path):
    app_config["desk"]["demo"] = True
    app_config["incidents"]["routing_file"] = str(tmp_path / "no-such-table.yaml")
    return app_config


def test_demo_desk_routes_a_school_canteen_post_to_the_education_bureau(demo_app_config, app, client):
    from tests.incidents.conftest import index, make_post

    ids = index(app, [make_post(1, "紧急扩散！听说城南小学食堂有学生吃坏肚子，好多家长都去学校了", region="青山县")])
    r = client.post("/api/v1/incidents", json={"title": "城南小学食堂学生不适", "level": "较大", "post_ids": ids})
    assert r.status_code == 201, r.get_json()
    inc = r.get_json()
    assert inc["department"] == "县教育局"
    assert inc["contacts"][0]["name"] == "教育局办公室值班"
    opened = next(e for e in inc["timeline"] if e["action"] == "open")
    assert opened["payload"]["route"]["department"] == "县教育局" and "城南小学" in opened["payload"]["route"]["matched"]
    # the assign form offers the table's departments
    assert "县应急管理局" in client.get("/api/v1/incidents/assignees").get_json()["departments"]


def test_cli_routes_example_and_check(tmp_path):
    from click.testing import CliRunner

    from opinion_desk.cli import main as cli

    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\ndemo = true\n'
                   f'[incidents]\nrouting_file = "{tmp_path / "absent.yaml"}"\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "routes", "--check", "城南小学食堂有学生吃坏肚子"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("县教育局") and "城南小学" in r.stdout
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "routes", "--example"])
    assert r.exit_code == 0 and routing.parse(__import__("yaml").safe_load(r.stdout), "stdout")
    r = CliRunner().invoke(cli, ["--config", str(cfg), "incidents", "routes", "--check", "今天天气不错"])
    assert r.exit_code == 1 and "未匹配" in r.output
    assert CliRunner().invoke(cli, ["incidents", "routes", "--help"]).exit_code == 0
