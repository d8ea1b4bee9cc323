"""docker-compose.yml, deploy/nginx.conf and the Dockerfile describe a desk that starts: checked against the desk's
own config schema and command line (no container runtime here), and nginx's own parser (`nginx -t`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.config import ENV_PREFIX, SCHEMA, load_config
from opinion_desk.state.url import problem

ROOT = Path(__file__).resolve().parent.parent
DESK_SERVICES = {"web1": "web", "web2": "web", "worker": "worker"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}, with ``env`` as the .env file."""
    def one(m: re.Match) -> str:
        name, op, rest = m.group(1), m.group(2) or "", m.group(3) or ""
        if name in env:
            return env[name]
        if op == ":?":
            raise AssertionError(f"{name} is required: {rest}")
        return rest
    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def desk_env(service: dict, env: dict[str, str]) -> dict[str, str]:
    raw = service["environment"]
    assert isinstance(raw, dict), "the desk's environment is a mapping"
    return {k: interpolate(str(v), env) for k, v in raw.items()}


def test_production_shape(compose: dict) -> None:
    services = compose["services"]
    assert {"elasticsearch", "postgres", "redis", "nginx", *DESK_SERVICES} <= set(services)
    for name, role in DESK_SERVICES.items():
        assert services[name]["command"] == ["opinion-desk", "run", "--role", role], name
        assert {"elasticsearch", "postgres", "redis"} <= set(services[name]["depends_on"]), name
        for dep, cond in services[name]["depends_on"].items():
            assert cond == {"condition": "service_healthy"}, f"{name} waits for {dep} to be healthy"
            assert "healthcheck" in services[dep], f"{dep} has a health check to wait for"
    assert services["worker"]["healthcheck"] == {"disable": True}, "the worker serves no /api/v1/health"
    data = {name: [v for v in services[name]["volumes"] if v.endswith(":/data")] for name in DESK_SERVICES}
    assert len({tuple(v) for v in data.values()}) == len(DESK_SERVICES), f"each desk process has its own /data: {data}"


def test_run_accepts_the_roles_compose_uses(compose: dict) -> None:
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0, result.output
    run = main.commands["run"]
    role = next(p for p in run.params if p.name == "role")
    for name, want in DESK_SERVICES.items():
        assert want in role.type.choices, f"{name}: opinion-desk run --role {want}"


def test_environment_is_a_valid_desk_config(compose: dict, tmp_path: Path) -> None:
    dotenv = {"POSTGRES_PASSWORD": "pw-from-env", "OPINION_DESK_SECRET_KEY": "k" * 64}
    services = compose["services"]
    envs = {name: desk_env(services[name], dotenv) for name in DESK_SERVICES}
    first = envs["web1"]
    assert all(e == first for e in envs.values()), "every desk process gets the same settings (one secret key)"
    for name in first:
        assert name.startswith(ENV_PREFIX), name
        *sec, key = name[len(ENV_PREFIX):].lower().split("__")
        assert key in SCHEMA.get(".".join(sec), {}), f"{name} is no desk setting"
    empty = tmp_path / "desk.toml"
    empty.write_text("", encoding="utf-8")
    cfg = load_config(empty, env=first)  # strict: a bad value raises ConfigError naming it
    assert cfg["desk"]["secret_key"] == "k" * 64
    state = urlparse(cfg["state"]["url"])
    assert state.scheme == "postgresql" and state.hostname == "postgres" and state.password == "pw-from-env"
    pg = services["postgres"]["environment"]
    assert (state.username, state.path.lstrip("/")) == (pg["POSTGRES_USER"], pg["POSTGRES_DB"])
    assert problem(cfg["state"]["url"]) is None, "the PostgreSQL driver is installed (the postgres extra)"
    assert urlparse(cfg["desk"]["message_queue"]).scheme == "redis"
    assert urlparse(cfg["desk"]["message_queue"]).hostname == "redis"
    assert cfg["store"]["backend"] == "elasticsearch"
    assert [urlparse(u).hostname for u in cfg["store.elasticsearch"]["urls"]] == ["elasticsearch"]
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD"):
        desk_env(services["web1"], {"OPINION_DESK_SECRET_KEY": "k"})  # no default password
    with pytest.raises(AssertionError, match="OPINION_DESK_SECRET_KEY"):
        desk_env(services["web1"], {"POSTGRES_PASSWORD": "pw"})  # no default secret key


def test_dockerfile_installs_the_postgres_and_redis_extras() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    m = re.search(r"pip install -e '\.\[([\w,]+)\]'", text)
    assert m, "the image installs the project with its extras"
    extras = set(m.group(1).split(","))
    assert {"postgres", "redis"} <= extras
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for extra in extras:
        assert re.search(rf"^{extra} = \[", pyproject, re.M), f"pyproject.toml declares the {extra} extra"
    assert "/evidence" in text, "the shared evidence volume is writable by the desk user"


def test_nginx_sticky_upstream_of_both_web_processes(compose: dict, tmp_path: Path) -> None:
    mount = next(v for v in compose["services"]["nginx"]["volumes"] if "nginx" in v)
    conf_path = ROOT / mount.split(":")[0].removeprefix("./")
    conf = conf_path.read_text(encoding="utf-8")
    upstream = re.search(r"upstream desk_web \{(.*?)\}", conf, re.S).group(1)
    assert re.search(r"^\s*ip_hash;", upstream, re.M), "sticky sessions for Socket.IO's long-polling"
    port = SCHEMA["desk"]["port"].default
    assert sorted(re.findall(r"server (\w+):(\d+)", upstream)) == [("web1", str(port)), ("web2", str(port))]
    sio = re.search(r"location /socket\.io \{(.*?)\}", conf, re.S).group(1)
    for needed in ("proxy_http_version 1.1", "proxy_set_header Upgrade $http_upgrade",
                   "proxy_set_header Connection $connection_upgrade", "proxy_set_header Host $http_host",
                   "proxy_buffering off"):
        assert needed in sio, needed
    # nginx's own parser, with the compose host names made local (nginx resolves upstream names at load)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing (scripts/test.sh installs it)"
    local = conf.replace("web1:", "127.0.0.1:").replace("web2:", "127.0.0.2:").replace("listen 80;",
                                                                                       "listen 127.0.0.1:18080;")
    (tmp_path / "desk.conf").write_text(local, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(f"error_log stderr;\npid {tmp_path}/nginx.pid;\nevents {{}}\n"
                                         f"http {{\n  include {tmp_path}/desk.conf;\n}}\n", encoding="utf-8")
    r = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
