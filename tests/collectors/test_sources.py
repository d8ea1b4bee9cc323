"""sources/*.yaml: loading, validation errors naming file, line and field, credentials."""

from __future__ import annotations

from pathlib import Path

from opinion_desk.collectors.sources import load_sources, parse_duration

REPO = Path(__file__).resolve().parents[2]


def test_valid_file_with_durations_and_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_WB_COOKIE", "SUB=abc")
    (tmp_path / "a.yaml").write_text("""
sources:
  - name: wb
    type: weibo
    cadence: 5m
    jitter: 30s
    mode: search
    keywords: [化工厂]
    credentials: {cookie_env: TEST_WB_COOKIE}
    alert_after: 2
  - name: gov-rss
    type: rss
    url: http://www.example.gov.cn/rss.xml
    enabled: false
""", encoding="utf-8")
    found = load_sources(tmp_path)
    assert found.problems == []
    wb, gov = found.specs
    assert (wb.cadence, wb.jitter, wb.alert_after, wb.credentials) == (300.0, 30.0, 2, {"cookie": "SUB=abc"})
    assert wb.where.endswith("a.yaml:3") and gov.enabled is False and gov.cadence == 300.0


def test_problems_name_file_line_and_field(tmp_path, monkeypatch):
    monkeypatch.delenv("NOPE_COOKIE", raising=False)
    (tmp_path / "b.yaml").write_text("""sources:
  - name: wb
    type: weibo
    mode: user
    credentials:
      cookie_env: NOPE_COOKIE
  - name: feed
    type: rss
    cadence: often
    urll: http://x
  - name: feed
    type: twitter
""", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    found = load_sources(tmp_path)
    msgs = [str(p) for p in found.problems]
    assert any(m.startswith(f"{tmp_path}/b.yaml:6: source 'wb' field 'credentials.cookie_env'") and "NOPE_COOKIE" in m
               for m in msgs), msgs
    assert any(m.startswith(f"{tmp_path}/b.yaml:2: source 'wb' field 'uids'") for m in msgs), msgs
    assert any(m.startswith(f"{tmp_path}/b.yaml:9: source 'feed' field 'cadence'") for m in msgs), msgs
    assert any("b.yaml:10: source 'feed' field 'urll': 类型 'rss' 没有这个选项" in m for m in msgs), msgs
    assert any("b.yaml" in m and "field 'url': 类型 'rss' 必须填写此项" in m for m in msgs), msgs
    assert any("b.yaml:12: source 'feed' field 'type'" in m and "twitter" in m for m in msgs), msgs
    assert any(m.startswith(f"{tmp_path}/c.yaml:") and "not valid YAML" in m for m in msgs), msgs
    assert found.specs == []


def test_duplicate_names_across_files(tmp_path):
    for f in ("a.yaml", "b.yaml"):
        (tmp_path / f).write_text("name: same\ntype: rss\nurl: http://x/rss\n", encoding="utf-8")
    found = load_sources(tmp_path)
    assert len(found.specs) == 1
    assert "名称重复（首次声明于" in str(found.problems[0]) and "b.yaml:1" in str(found.problems[0])


def test_shipped_examples_are_valid():
    found = load_sources(REPO / "sources", resolve=False)
    assert found.problems == [], [str(p) for p in found.problems]
    assert {s.type for s in found.specs} >= {"rss", "weibo", "wechat", "web", "files"}


def test_parse_duration():
    assert [parse_duration(x) for x in (90, "90s", "5m", "2h", "1.5m")] == [90, 90, 300, 7200, 90]
