"""Fetching the server: the ``integ-test-zip`` distribution from Maven Central with ``mvn``
(maven-dependency-plugin 3.x ``copy``), reusing Maven's own cache in ~/.m2, unpacked next to the zip."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from ..errors import ESNodeError


def fetch_dist(version: str, home: Path) -> Path:
    """Download (via Maven Central) and unpack Elasticsearch ``version`` into ``home`` unless already there;
    returns the unpacked directory."""
    zip_path = home / f"elasticsearch-{version}.zip"
    dist_dir = home / f"elasticsearch-{version}"
    home.mkdir(parents=True, exist_ok=True)
    if (dist_dir / "bin" / "elasticsearch").exists():
        return dist_dir
    if not zip_path.exists():
        m2 = (Path.home() / ".m2/repository/org/elasticsearch/distribution/integ-test-zip/elasticsearch"
              / version / f"elasticsearch-{version}.zip")
        if not m2.exists():
            _mvn_fetch(version, home, zip_path)
        else:
            part = Path(str(zip_path) + ".part")
            part.unlink(missing_ok=True)
            try:
                os.link(m2, part)  # same file system: no second copy of 98 MB
            except OSError:
                shutil.copyfile(m2, part)
            os.replace(part, zip_path)
    tmp = home / f".unpack-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                target = zf.extract(info, tmp)
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    os.chmod(target, mode)
    except zipfile.BadZipFile as e:
        zip_path.unlink(missing_ok=True)
        raise ESNodeError(f"{zip_path} is not a valid zip ({e}); deleted it, run `opinion-desk es fetch` again") from None
    inner = tmp / f"elasticsearch-{version}"
    if not (inner / "bin" / "elasticsearch").exists():
        raise ESNodeError(f"{zip_path} has no elasticsearch-{version}/bin/elasticsearch")
    os.replace(inner, dist_dir)
    shutil.rmtree(tmp, ignore_errors=True)
    return dist_dir


def _mvn_fetch(version: str, home: Path, zip_path: Path) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise ESNodeError(f"Maven (mvn) is not installed; install it (apt-get install maven) or put "
                          f"elasticsearch-{version}.zip into {home}")
    cmd = [mvn, "-B", "-q", "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
           f"-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip",
           f"-DoutputDirectory={home}"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise ESNodeError(f"downloading Elasticsearch {version} from Maven Central timed out") from None
    if p.returncode != 0 or not zip_path.exists():
        out = (p.stdout + p.stderr).strip()[-1500:]
        raise ESNodeError(f"could not download Elasticsearch {version} from Maven Central "
                          f"(es_node.version in config):\n{out}")
