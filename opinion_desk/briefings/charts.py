"""The briefing's charts as PNG, drawn with Pillow (no plotting library): volume per hour/day stacked by
sentiment, and the sentiment split. Drawn at twice the printed size, so they stay sharp in Word and PDF."""

from __future__ import annotations

import functools
import io
import math
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .facts import SENTIMENTS, Bucket

COLORS = {"neg": (200, 45, 45), "neutral": (150, 160, 175), "pos": (40, 150, 80), "other": (215, 215, 220)}
NAMES = dict(SENTIMENTS) | {"other": "未分析"}
INK, GRID, MUTED = (40, 40, 48), (226, 228, 232), (110, 114, 124)
# fonts that carry Chinese, tried in order when fontconfig cannot be asked
CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
             "C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simhei.ttf", "/System/Library/Fonts/PingFang.ttc")


@functools.cache
def cjk_font_path() -> str | None:
    """A font file with Chinese glyphs: fontconfig's choice for zh-cn, else a known path."""
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
            if out and Path(out).is_file():
                return out
        except (OSError, subprocess.SubprocessError):
            pass
    return next((p for p in CJK_FONTS if Path(p).is_file()), None)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = cjk_font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")  # optimize=True would take ~150 ms more for a few kB
    return buf.getvalue()


def nice_step(top: int, ticks: int = 5) -> int:
    """A round step (1, 2, 5 x 10^k) giving about ``ticks`` gridlines up to ``top``."""
    if top <= ticks:
        return 1
    raw = top / ticks
    mag = 10 ** math.floor(math.log10(raw))
    return int(next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw))


def _legend(d: ImageDraw.ImageDraw, x: int, y: int, keys: list[str], f: ImageFont.ImageFont) -> None:
    for k in keys:
        d.rectangle([x, y + 6, x + 26, y + 32], fill=COLORS[k])
        d.text((x + 36, y), NAMES[k], font=f, fill=INK)
        x += 56 + int(d.textlength(NAMES[k], font=f))


def volume_chart(buckets: list[Bucket], unit: str, width: int = 1600, height: int = 640) -> bytes:
    """Stacked bars: posts per ``unit`` (小时/日) by sentiment, with gridlines and the peak marked."""
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    f, small = font(28), font(24)
    keys = [k for k, _ in SENTIMENTS] + (["other"] if any(b.counts.get("other") for b in buckets) else [])
    d.text((20, 14), f"信息量走势（每{unit}，条）", font=f, fill=INK)
    _legend(d, width - 20 - sum(56 + int(d.textlength(NAMES[k], font=small)) for k in keys), 18, keys, small)
    left, right, top, bottom = 100, width - 30, 80, height - 70
    peak = max((b.total for b in buckets), default=0)
    step = nice_step(max(peak, 1))
    ymax = step * math.ceil(max(peak, 1) / step)
    for v in range(0, ymax + 1, step):
        y = bottom - (bottom - top) * v / ymax
        d.line([left, y, right, y], fill=GRID, width=2)
        label = f"{v:,}"
        d.text((left - 12 - d.textlength(label, font=small), y - 14), label, font=small, fill=MUTED)
    n = max(len(buckets), 1)
    slot = (right - left) / n
    bar = max(2.0, slot * 0.7)
    every = max(1, math.ceil(n / 12 if unit == "小时" else n / 16))
    marked = False
    for i, b in enumerate(buckets):
        x0 = left + i * slot + (slot - bar) / 2
        y = float(bottom)
        for k in keys:
            h = (bottom - top) * b.counts.get(k, 0) / ymax
            if h > 0:
                d.rectangle([x0, y - h, x0 + bar, y], fill=COLORS[k])
                y -= h
        if i % every == 0:
            lw = max(d.textlength(line, font=small) for line in b.label.split("\n"))
            d.multiline_text((x0 + bar / 2 - lw / 2, bottom + 10), b.label, font=small, fill=MUTED, spacing=2,
                             align="center")
        if peak and b.total == peak and not marked:  # the first peak only
            txt = f"峰值 {peak:,}"
            tw = d.textlength(txt, font=small)
            tx = min(max(x0 + bar / 2 - tw / 2, left), right - tw)
            d.text((tx, max(top - 34, y - 34)), txt, font=small, fill=COLORS["neg"])
            marked = True
    d.line([left, bottom, right, bottom], fill=INK, width=2)
    if not peak:
        msg = "本时段无监测数据"
        d.text(((left + right) / 2 - d.textlength(msg, font=f) / 2, (top + bottom) / 2 - 16), msg, font=f, fill=MUTED)
    return _png(img)


def sentiment_chart(sentiment: dict[str, int], width: int = 1600, height: int = 330) -> bytes:
    """One horizontal bar per sentiment, with count and share of all posts."""
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    f, small = font(28), font(26)
    total = sum(sentiment.values())
    d.text((20, 14), f"情感分布（共 {total:,} 条）", font=f, fill=INK)
    keys = [k for k, _ in SENTIMENTS] + (["other"] if sentiment.get("other") else [])
    left, right, top = 150, width - 300, 80
    row = (height - top - 20) / max(len(keys), 1)
    peak = max(sentiment.values(), default=0) or 1
    for i, k in enumerate(keys):
        n = sentiment.get(k, 0)
        y = top + i * row
        d.text((left - 20 - d.textlength(NAMES[k], font=small), y + row / 2 - 16), NAMES[k], font=small, fill=INK)
        w = (right - left) * n / peak
        d.rectangle([left, y + row * 0.18, left + max(w, 2), y + row * 0.82], fill=COLORS[k])
        share = f"{n:,} 条（{100 * n / total:.1f}%）" if total else "0 条"
        d.text((left + max(w, 2) + 16, y + row / 2 - 16), share, font=small, fill=INK)
    return _png(img)
