"""The .docx as a reader sees it: LibreOffice (headless) turns it into a PDF, poppler into PNG pages kept in
tests/artifacts/ (briefing_daily_p1.png ...) to be looked at. Fails, never skips, when soffice or poppler is
missing (scripts/test.sh installs them)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from opinion_desk.briefings import period as P
from tests.briefings.conftest import BJ

pytestmark = pytest.mark.slow


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run scripts/test.sh (it installs libreoffice-writer-nogui and poppler-utils)")
    return path


def to_pdf(docx: Path, out: Path) -> Path:
    """docx -> PDF with a private LibreOffice profile (no clash with another running soffice)."""
    profile = out / "lo-profile"
    r = subprocess.run([_tool("soffice"), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(out), str(docx)],
                       capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(out)})
    pdf = out / (docx.stem + ".pdf")
    assert r.returncode == 0 and pdf.is_file(), f"soffice failed: {r.stdout}\n{r.stderr}"
    return pdf


def to_pngs(pdf: Path, prefix: Path, dpi: int = 80) -> list[Path]:
    subprocess.run([_tool("pdftoppm"), "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True, timeout=120)
    return sorted(prefix.parent.glob(prefix.name + "-*.png"))


def pdf_text(pdf: Path) -> str:
    """The PDF's text without white space (the layout puts spaces between Chinese and digits)."""
    out = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return "".join(out.split())


def test_daily_briefing_renders(app, seeded, briefings, tmp_path, artifacts):
    row = briefings.make(P.day(date(2026, 11, 24), BJ), "test")
    pdf = to_pdf(briefings.dir / row["docx_file"], tmp_path)
    text = pdf_text(pdf)
    # the Chinese came through as text (a font with the glyphs was found), in reading order
    for words in ("舆情日报", "一、总体情况", "二、声量与情感走势", "三、热点事件", "四、预警情况", "五、事件处置与时效",
                  "六、回应发布", "共监测到相关信息128条", "青山县委宣传部网络舆情中心编", "统计时段：2026-11-2400:00至"):
        assert words in text, words
    assert text.index("一、总体情况") < text.index("三、热点事件") < text.index("六、回应发布")
    assert "第1页/共" in text  # the footer's page fields were filled in
    pages = to_pngs(pdf, tmp_path / "page")
    assert 2 <= len(pages) <= 5, len(pages)
    for old in artifacts.glob("briefing_daily_p*.png"):
        old.unlink()
    for i, page in enumerate(pages, 1):
        shutil.copyfile(page, artifacts / f"briefing_daily_p{i}.png")


def test_weekly_briefing_renders_with_daily_bars(app, seeded, briefings, tmp_path, artifacts):
    row = briefings.make(P.week(date(2026, 11, 24), BJ), "test")
    pdf = to_pdf(briefings.dir / row["docx_file"], tmp_path)
    text = pdf_text(pdf)
    assert "舆情周报" in text and "2026年11月23日至11月29日" in text and "共监测到相关信息131条" in text
    pages = to_pngs(pdf, tmp_path / "week")
    shutil.copyfile(pages[0], artifacts / "briefing_weekly_p1.png")
