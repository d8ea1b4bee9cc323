"""The briefing as a Word document (python-docx), laid out like an office's printed 舆情简报: red masthead and
rule, numbered sections (一、二、…), charts, and tables whose header row repeats on every page. 宋体 body,
黑体 headings (a machine without them falls back to any Chinese font)."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table

from . import text
from .facts import LIST_CAP, Facts

RED = RGBColor(0xC0, 0x10, 0x10)
BODY_FONT, HEAD_FONT = "宋体", "黑体"


def _fonts(run_or_style: Any, name: str) -> None:
    """Set the Latin and the East Asian font (Word picks Chinese glyphs from w:eastAsia)."""
    run_or_style.font.name = name
    rpr = run_or_style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.append(rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)


def _run(par: Any, s: str, size: float | None = None, bold: bool = False, color: RGBColor | None = None,
         face: str | None = None) -> Any:
    r = par.add_run(s)
    if face:
        _fonts(r, face)
    if size:
        r.font.size = Pt(size)
    r.bold = bold or None
    if color is not None:
        r.font.color.rgb = color
    return r


def _rule(par: Any, color: str = "C01010", size: int = 18) -> None:
    """A line under the paragraph (the masthead's red rule)."""
    ppr = par._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "4"), ("w:color", color)):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.append(bdr)


def _field(par: Any, code: str) -> None:
    """A Word field (PAGE, NUMPAGES) that the reader fills in: begin, instruction, end, each in its own run."""
    for kind in ("begin", "instr", "end"):
        r = par.add_run()
        r.font.size = Pt(9)
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {code} "
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        r._r.append(el)


def _shade(cell: Any, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    for k, v in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shd.set(qn(k), v)
    tcpr.append(shd)


def _table(doc: Any, head: list[str], rows: list[list[str]], widths: list[float]) -> Table:
    t = doc.add_table(rows=1, cols=len(head))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    trpr = t.rows[0]._tr.get_or_add_trPr()
    hdr = OxmlElement("w:tblHeader")  # the header row repeats on each page
    hdr.set(qn("w:val"), "true")
    trpr.append(hdr)
    for cell, h in zip(t.rows[0].cells, head):
        _shade(cell, "F2E6E6")
        p = cell.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(p, h, 10, bold=True, face=HEAD_FONT)
    for values in rows:
        cells = t.add_row().cells
        for cell, v in zip(cells, values):
            lines = str(v).split("\n")
            p = cell.paragraphs[0]
            _run(p, lines[0], 10)
            for more in lines[1:]:
                _run(cell.add_paragraph(), more, 9, color=RGBColor(0x44, 0x44, 0x44))
    for row in t.rows:  # a row is never split across two pages
        keep = OxmlElement("w:cantSplit")
        keep.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(keep)
    for col, w in zip(t.columns, widths):  # the grid (LibreOffice reads it) and each cell (Word reads those)
        col.width = Cm(w)
    for row in t.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = Cm(w)
    return t


def _heading(doc: Any, s: str) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.space_before = Pt(12)
    p.paragraph_format.space_after = Pt(6)
    p.paragraph_format.keep_with_next = True
    _run(p, s, 15, bold=True, face=HEAD_FONT)


def _para(doc: Any, s: str, size: float = 11.5, indent: bool = True) -> Any:
    p = doc.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)  # 首行缩进两字
    p.paragraph_format.line_spacing = 1.35
    _run(p, s, size)
    return p


def _note(doc: Any, shown: int, total: int) -> None:
    if total > shown:
        _para(doc, f"（表中列出前 {shown} 条，共 {total} 条。）", 9.5, indent=False)


def build(facts: Facts, charts: dict[str, bytes], desk_name: str = "舆情值班台") -> bytes:
    """The .docx bytes of the briefing; ``charts`` holds the PNGs ``volume`` and ``sentiment``."""
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.4)
    sec.top_margin, sec.bottom_margin = Cm(2.4), Cm(2.2)
    normal = doc.styles["Normal"]
    _fonts(normal, BODY_FONT)
    normal.font.size = Pt(11.5)
    doc.core_properties.title = facts.period.title()
    doc.core_properties.author = desk_name
    doc.core_properties.language = "zh-CN"
    _masthead(doc, facts, desk_name)
    _body(doc, facts, charts)
    _footer(sec, facts)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _masthead(doc: Any, facts: Facts, desk_name: str) -> None:
    """The red title, the issuer and date over a red rule, the period."""
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, facts.period.kind_zh, 30, bold=True, color=RED, face=HEAD_FONT)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, f"{desk_name}编　　{facts.generated_at.year}年{facts.generated_at.month}月{facts.generated_at.day}日"
            f" {facts.generated_at:%H:%M}", 11)
    _rule(p)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, facts.period.label(), 14, bold=True, face=HEAD_FONT)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, text.span_line(facts), 10, color=RGBColor(0x55, 0x55, 0x55))


def _body(doc: Any, facts: Facts, charts: dict[str, bytes]) -> None:
    _heading(doc, "一、总体情况")
    _para(doc, text.overview(facts))
    head, row = text.key_figures(facts)
    _table(doc, head, [row], [2.1, 2.4, 2.1, 1.8, 2.1, 3.3, 2.4])

    _heading(doc, "二、声量与情感走势")
    doc.add_picture(io.BytesIO(charts["volume"]), width=Cm(16))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_picture(io.BytesIO(charts["sentiment"]), width=Cm(16))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, text.trend(facts))

    _heading(doc, "三、热点事件")
    if facts.events:
        _table(doc, ["序号", "事件", "信息量", "首发信息", "处置状态"], text.event_rows(facts), [1.1, 3.0, 1.8, 7.0, 3.3])
    else:
        _para(doc, "本时段未形成热点事件。")

    _heading(doc, "四、预警情况")
    _para(doc, text.alerts_line(facts))
    if facts.alerts:
        _table(doc, ["时间", "规则", "级别", "对象", "状态", "次数"], text.alert_rows(facts)[:LIST_CAP],
               [2.8, 4.4, 1.9, 3.8, 2.0, 1.3])
        _note(doc, min(LIST_CAP, len(facts.alerts)), facts.alerts_total)

    _heading(doc, "五、事件处置与时效")
    _para(doc, text.incidents_line(facts))
    if facts.incidents:
        _table(doc, ["事件", "级别", "状态", "立案时间", "权威信息 / 回应时限", "新闻发布会时限"],
               text.incident_rows(facts)[:LIST_CAP], [4.1, 1.4, 1.7, 2.8, 3.2, 3.0])
        _note(doc, min(LIST_CAP, len(facts.incidents)), len(facts.incidents))

    _heading(doc, "六、回应发布")
    _para(doc, text.publications_line(facts))
    if facts.publications:
        _table(doc, ["发布时间", "渠道", "事件", "方式", "核验", "链接"], text.publication_rows(facts)[:LIST_CAP],
               [2.8, 2.2, 3.9, 1.9, 1.5, 3.9])
        _note(doc, min(LIST_CAP, len(facts.publications)), len(facts.publications))



def _footer(sec: Any, facts: Facts) -> None:
    """The title and 第 N 页 / 共 M 页 on every page."""
    foot = sec.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(foot, f"{facts.period.title()}　第 ", 9)
    _field(foot, "PAGE")
    _run(foot, " 页 / 共 ", 9)
    _field(foot, "NUMPAGES")
    _run(foot, " 页", 9)
