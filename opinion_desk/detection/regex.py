"""Rule regexes, compiled with RE2 (``google-re2``): matching time is linear in the text, so no pattern a rule
file can hold — ``(a+)+$`` included — can stall the pipeline on a crafted post.

RE2 is not Python's ``re``; :func:`compile_rule_regex` reports the differences that matter to an analyst:

- refused (``ValueError``): what RE2 cannot do in linear time — backreferences (``\\1``), lookaround
  (``(?=``, ``(?!``, ``(?<=``, ``(?<!``), possessive/atomic groups, ``\\Z`` (write ``\\z``);
- translated: ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes become RE2's ``\\x{XXXX}``;
- noted (returned as warnings, printed by ``rules check``): ``\\w \\d \\s \\b`` are ASCII-only in RE2, so they
  do not match Chinese characters or full-width digits as they would in Python; use ``\\p{Han}``, ``[0-9０-９]``.
"""

from __future__ import annotations

import re
from typing import Any

import re2

MAX_PATTERN = 2000
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # errors come back to us as exceptions, not as lines on stderr
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_ASCII_CLASSES = "wWdDsSbB"


def _translate(pattern: str) -> tuple[str, set[str]]:
    """``\\uXXXX`` -> ``\\x{XXXX}``; also returns the ASCII-only class escapes used (w, d, s, b ...)."""
    out: list[str] = []
    used: set[str] = set()
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            if e == "u" and _HEX4.fullmatch(pattern, i + 2, i + 6):
                out.append("\\x{" + pattern[i + 2:i + 6] + "}")
                i += 6
                continue
            if e == "U" and _HEX8.fullmatch(pattern, i + 2, i + 10):
                out.append("\\x{" + pattern[i + 2:i + 10].lstrip("0").rjust(1, "0") + "}")
                i += 10
                continue
            if e in _ASCII_CLASSES:
                used.add(e)
            out.append(pattern[i:i + 2])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out), used


def _why_not(pattern: str, reason: str) -> str:
    """A reason for an RE2 refusal, saying whether Python's re would have taken it."""
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as e:
        return f"正则表达式「{pattern}」语法错误，无法编译（does not compile）：{e}"
    return (f"正则表达式「{pattern}」 用到了 RE2 不支持的写法（{reason}）；规则的正则用线性时间的 RE2 执行，"
            f"不支持反向引用 \\1、前后断言 (?=…)/(?<=…)、\\Z（请用 \\z）等")


def compile_rule_regex(pattern: str) -> tuple[Any, list[str]]:
    """The compiled RE2 pattern and the dialect notes for ``pattern``; ``ValueError`` (Chinese) if refused."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"正则表达式过长（{len(pattern)} 字符，上限 {MAX_PATTERN}）")
    text, used = _translate(pattern)
    try:
        rx = re2.compile(text, _OPTIONS)
    except re2.error as e:
        msg = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ValueError(_why_not(pattern, msg)) from None
    notes = []
    if used:
        esc = " ".join("\\" + u for u in sorted(used))
        notes.append(f"正则表达式「{pattern}」 中的 {esc} 在 RE2 中只匹配 ASCII（不含汉字、全角数字），"
                     f"与 Python re 不同；匹配汉字请用 \\p{{Han}}")
    return rx, notes
