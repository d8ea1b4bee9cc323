"""Which JDK runs the node: Elasticsearch 8.x needs Java 17+, 9.x needs 21+ (the machines carry several)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ESNodeError

JVM_DIR = Path("/usr/lib/jvm")


def java_major(java_home: Path) -> int | None:
    """The major Java version of a JDK directory, read from its ``release`` file (None when unknown)."""
    try:
        text = (java_home / "release").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("JAVA_VERSION="):
            v = line.split("=", 1)[1].strip().strip('"')
            parts = v.split(".")
            try:
                major = int(parts[0])
                if major == 1 and len(parts) > 1:  # 1.8.0_x
                    major = int(parts[1])
                return major
            except ValueError:
                return None
    return None


def min_java(version: str) -> int:
    """Lowest JDK major version the given Elasticsearch version runs on."""
    major = int(version.split(".")[0])
    return 21 if major >= 9 else 17


def find_java_home(version: str, configured: str = "") -> Path:
    """The JDK for Elasticsearch ``version``: ``configured`` (es_node.java_home), else $ES_JAVA_HOME/$JAVA_HOME
    when supported, else the lowest supported one under /usr/lib/jvm."""
    need = min_java(version)
    if configured:
        p = Path(os.path.expanduser(configured))
        got = java_major(p)
        if got is None or not (p / "bin" / "java").exists():
            raise ESNodeError(f"es_node.java_home {p} is not a JDK (no bin/java or release file)")
        if got < need:
            raise ESNodeError(f"es_node.java_home {p} is Java {got}; Elasticsearch {version} needs {need}+")
        return p
    for var in ("ES_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(var):
            p = Path(os.environ[var])
            got = java_major(p)
            if got is not None and got >= need and (p / "bin" / "java").exists():
                return p
    found: dict[Path, int] = {}
    if JVM_DIR.is_dir():
        for d in sorted(JVM_DIR.iterdir()):
            real = d.resolve()
            got = java_major(real)
            if got is not None and got >= need and (real / "bin" / "java").exists():
                found[real] = got
    if not found:
        raise ESNodeError(f"no JDK {need}+ found (checked es_node.java_home, $ES_JAVA_HOME, $JAVA_HOME, "
                          f"{JVM_DIR}); install one (apt-get install openjdk-17-jre-headless) or set es_node.java_home")
    # the lowest supported major: the one Elasticsearch's own test matrix covers longest
    return min(found, key=lambda p: (found[p], str(p)))
