"""One bounded YAML loader for the files people drop into the desk (rules/*.yaml, sources/*.yaml).

PyYAML's ``safe_load`` never runs code, but it does no bounding: a 396-byte file of nested aliases ("billion
laughs") expands to billions of nodes as soon as anything walks it (the line map, the schema check, JSON), a few
thousand ``[`` exhaust the recursion limit, and a huge file is read whole. :func:`load` refuses all of these
*before* anything walks the document, with a :class:`YAMLLimitError` naming the file and line, in Chinese:

- the file's size (``max_bytes``), read no further than that;
- nesting depth (``max_depth``), checked while composing, before Python's recursion limit is near;
- alias uses (``max_aliases``) and the size the document would have with every alias expanded
  (``max_nodes``), computed over the node graph once, without expanding it; a recursive alias is refused;
- mapping keys that are not text, keys given twice in one mapping, and ``.nan`` / ``.inf`` values.

It returns both the composed node tree (for line numbers) and the plain data built from it (one parse, not two).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from .errors import DeskError

MAX_BYTES = 256 * 1024
MAX_DEPTH = 40
MAX_ALIASES = 100
MAX_NODES = 50_000
STR = "tag:yaml.org,2002:str"
MERGE = "tag:yaml.org,2002:merge"


class YAMLLimitError(DeskError):
    """A YAML file that is not valid or goes past a limit; names the file and (when known) the line."""

    def __init__(self, file: str, reason: str, line: int | None = None) -> None:
        self.file = file
        self.reason = reason
        self.line = line
        super().__init__(f"{file}:{line}: {reason}" if line else f"{file}: {reason}")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH
    max_aliases: int = MAX_ALIASES
    max_nodes: int = MAX_NODES


class _Stop(Exception):
    def __init__(self, reason: str, line: int | None) -> None:
        self.reason = reason
        self.line = line


class _BoundedLoader(Reader, Scanner, Parser, Composer, SafeConstructor, Resolver):
    """SafeLoader whose composer counts depth and alias uses as it goes."""

    def __init__(self, stream: str, limits: Limits) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.limits = limits
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: ANN401
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise _Stop(f"别名（*alias）引用超过 {self.limits.max_aliases} 处，拒绝加载（防止别名炸弹）",
                            self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise _Stop(f"嵌套超过 {self.limits.max_depth} 层，拒绝加载", self.peek_event().start_mark.line + 1)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _check_graph(root: yaml.Node, limits: Limits, to_float: Any) -> None:
    """Expanded size of the node graph (memoised per node, so aliases are not expanded), recursive aliases,
    key types, duplicate keys, non-finite numbers."""
    done: dict[int, tuple[int, int]] = {}  # node -> (expanded size, expanded depth)
    on_path: set[int] = set()

    def visit(node: yaml.Node) -> tuple[int, int]:
        nid = id(node)
        if nid in done:
            return done[nid]
        if nid in on_path:
            raise _Stop("别名引用了包含它自身的节点（递归别名），拒绝加载", _line(node))
        on_path.add(nid)
        n, depth = 1, 0
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode) or k.tag not in (STR, MERGE):
                    raise _Stop(f"键必须是文字（收到 {k.tag.rsplit(':', 1)[-1]} 类型的键）", _line(k))
                if k.value in seen and k.tag == STR:
                    raise _Stop(f"键 '{k.value}' 在同一映射中出现两次（第 {seen[k.value]} 行已有）", _line(k))
                seen[k.value] = _line(k)
                children += (k, v)
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        elif node.tag == "tag:yaml.org,2002:float" and not math.isfinite(to_float(node)):  # .nan, .inf, 1e999
            raise _Stop(f"数值 {node.value} 不是有限数", _line(node))
        for c in children:
            cn, cd = visit(c)
            n += cn
            depth = max(depth, cd)
            if n > limits.max_nodes:
                raise _Stop(f"展开别名后超过 {limits.max_nodes} 个节点，拒绝加载（防止别名炸弹）", _line(node))
            if depth >= limits.max_depth:
                raise _Stop(f"展开别名后嵌套超过 {limits.max_depth} 层，拒绝加载", _line(node))
        on_path.discard(nid)
        done[nid] = (n, depth + 1)
        return done[nid]

    visit(root)


def loads(text: str, file: str, limits: Limits = Limits()) -> tuple[Any, yaml.Node | None]:
    """Parse ``text`` (the content of ``file``): ``(data, node)``; ``(None, None)`` for an empty document.

    Raises :class:`YAMLLimitError` for invalid YAML and for every limit above."""
    if len(text) > limits.max_bytes:
        raise YAMLLimitError(file, f"文件过大（{len(text)} 字符，上限 {limits.max_bytes}）")
    loader = _BoundedLoader(text, limits)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_graph(node, limits, loader.construct_yaml_float)
        data = loader.construct_document(node)
    except _Stop as e:
        raise YAMLLimitError(file, e.reason, e.line) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise YAMLLimitError(file, f"不是有效的 YAML（not valid YAML）：{e.problem or e}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:
        raise YAMLLimitError(file, f"不是有效的 YAML（not valid YAML）：{e}") from None
    except RecursionError:
        raise YAMLLimitError(file, "嵌套过深，拒绝加载") from None
    except (ValueError, OverflowError, TypeError) as e:  # a scalar the constructor cannot build (e.g. a date)
        raise YAMLLimitError(file, f"无法解析的值：{e}") from None
    finally:
        loader.dispose()
    if isinstance(data, float) and not math.isfinite(data):
        raise YAMLLimitError(file, "数值不是有限数", 1)
    return data, node


def load_file(path: str | Path, limits: Limits = Limits()) -> tuple[Any, yaml.Node | None, bytes]:
    """Read (at most ``max_bytes`` + 1 bytes of) ``path`` and parse it: ``(data, node, raw bytes)``."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            raw = f.read(limits.max_bytes + 1)
    except OSError as e:
        raise YAMLLimitError(str(p), f"无法读取：{e.strerror or e}") from None
    if len(raw) > limits.max_bytes:
        raise YAMLLimitError(str(p), f"文件过大（超过 {limits.max_bytes} 字节），拒绝加载")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise YAMLLimitError(str(p), f"不是 UTF-8 编码（第 {e.start} 字节）") from None
    data, node = loads(text, str(p), limits)
    return data, node, raw
