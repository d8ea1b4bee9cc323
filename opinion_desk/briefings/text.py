"""The briefing's sentences and table rows in Chinese, shared by the Word document and the HTML page, so the two
always say the same thing."""

from __future__ import annotations

from ..alerting.channels.base import plain
from .facts import SENTIMENTS, Facts


def pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "0%"


def span_line(f: Facts) -> str:
    """统计时段, noting a period not over yet when the briefing was made."""
    s = f"统计时段：{f.period.span_text()}"
    return s + ("（本时段尚未结束，数据截至生成时）" if f.period.end > f.generated_at else "")


def overview(f: Facts) -> str:
    s = f.sentiment
    parts = [f"{f.period.label()}，共监测到相关信息 {f.total:,} 条"]
    if f.total:
        parts.append(f"其中负面 {s['neg']:,} 条（占 {pct(s['neg'], f.total)}），中性 {s['neutral']:,} 条，"
                     f"正面 {s['pos']:,} 条" + (f"，未完成分析 {s['other']:,} 条" if s["other"] else ""))
    parts.append(f"形成热点事件 {len(f.events)} 个" if f.events else "未形成热点事件")
    parts.append(f"触发预警 {f.alerts_total} 条" if f.alerts_total else "未触发预警")
    opened = sum(1 for i in f.incidents if i["opened_in_period"])
    if f.incidents:
        parts.append(f"处置事件 {len(f.incidents)} 起（本时段新立案 {opened} 起）")
        t = f.timeliness
        parts.append(f"处置时限按时 {t['deadlines_met']} 项、超时 {t['deadlines_missed']} 项")
    else:
        parts.append("无处置中的事件")
    parts.append(f"发布回应 {len(f.publications)} 条" if f.publications else "未发布回应")
    return "，".join(parts) + "。"


def key_figures(f: Facts) -> tuple[list[str], list[str]]:
    t = f.timeliness
    return (["信息总量", "负面信息", "热点事件", "预警", "处置事件", "时限按时/超时", "发布回应"],
            [f"{f.total:,}", f"{f.sentiment['neg']:,}\n占 {pct(f.sentiment['neg'], f.total)}", str(len(f.events)),
             str(f.alerts_total), str(len(f.incidents)), f"{t['deadlines_met']} / {t['deadlines_missed']}",
             str(len(f.publications))])


def trend(f: Facts) -> str:
    if not f.total:
        return "本时段无监测数据。"
    peak = max(f.buckets, key=lambda b: b.total)
    neg_peak = max(f.buckets, key=lambda b: b.counts.get("neg", 0))
    when = peak.start.strftime("%H:00") if f.bucket_unit == "小时" else f"{peak.start.month}月{peak.start.day}日"
    s = f"信息量峰值出现在{when}，为 {peak.total:,} 条"
    if neg_peak.counts.get("neg"):
        nw = neg_peak.start.strftime("%H:00") if f.bucket_unit == "小时" else f"{neg_peak.start.month}月{neg_peak.start.day}日"
        s += f"；负面信息最多的时段为{nw}（{neg_peak.counts['neg']:,} 条）"
    share = {k: pct(f.sentiment[k], f.total) for k, _ in SENTIMENTS}
    return s + f"。全时段负面占 {share['neg']}，中性占 {share['neutral']}，正面占 {share['pos']}。"


def event_rows(f: Facts) -> list[list[str]]:
    rows = []
    for i, e in enumerate(f.events, 1):
        first = e["first"]
        head = f"{first['author']} · {first['at']}" if first else ""
        body = plain(first["text"]) if first else ""  # a post's web address is shown defanged, never a link
        rows.append([str(i), e["label"], f"{e['posts']:,}\n负面 {e['neg']:,}", f"{head}\n{body}",
                     e["status"] + (f"\n最新 {e['last_at']}" if e["last_at"] else "")])
    return rows


def alerts_line(f: Facts) -> str:
    if not f.alerts_total:
        return "本时段未触发预警。"
    by: dict[str, int] = {}
    for a in f.alerts:
        by[a["severity_zh"]] = by.get(a["severity_zh"], 0) + 1
    parts = "、".join(f"{k} {v} 条" for k, v in by.items())
    return f"本时段共触发预警 {f.alerts_total} 条，其中{parts}。"


def alert_rows(f: Facts) -> list[list[str]]:
    return [[a["at"], a["rule"], a["severity_zh"], a["key"] or "—", a["status_zh"], str(a["count"])] for a in f.alerts]


def incidents_line(f: Facts) -> str:
    if not f.incidents:
        return "本时段无处置中的事件。"
    t = f.timeliness
    running = sum(t["deadlines"][n]["running"] for n in ("info", "press"))
    closed_early = sum(t["deadlines"][n]["closed"] for n in ("info", "press"))
    s = (f"本时段处置事件 {len(f.incidents)} 起，其中新立案 {sum(1 for i in f.incidents if i['opened_in_period'])} 起。"
         f"处置时限按时 {t['deadlines_met']} 项、超时 {t['deadlines_missed']} 项、进行中 {running} 项")
    if closed_early:
        s += f"、未到期即关闭 {closed_early} 项"
    if t.get("median_first_info_minutes") is not None:
        s += f"；首次发布权威信息用时中位数 {t['median_first_info_minutes']:g} 分钟"
    return s + "（时限结果截至本简报生成时）。"


def _deadline(d: dict | None) -> str:
    if not d:
        return "—"
    return f"{d['result_zh']}\n截止 {d['due']}"


def incident_rows(f: Facts) -> list[list[str]]:
    return [[f"#{i['id']} {i['title']}" + (f"\n{i['department']}" if i["department"] else ""), i["level"],
             i["status_zh"], i["opened_at"], _deadline(i["info"]), _deadline(i["press"])] for i in f.incidents]


def publications_line(f: Facts) -> str:
    if not f.publications:
        return "本时段未发布回应。"
    by: dict[str, int] = {}
    for p in f.publications:
        by[p["channel_zh"]] = by.get(p["channel_zh"], 0) + 1
    return f"本时段发布回应 {len(f.publications)} 条（" + "、".join(f"{k} {v} 条" for k, v in by.items()) + "）。"


def publication_rows(f: Facts) -> list[list[str]]:
    return [[p["at"], p["channel_zh"], f"#{p['incident_id']} {p['incident']}", p["mode_zh"], p["verified"],
             p["url"] or "—"] for p in f.publications]
