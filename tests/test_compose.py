"""The production packaging: docker-compose.yml, the Dockerfile, .dockerignore, .env.example.

Docker itself is not needed: the Compose file is checked against the Compose
Specification's JSON schema (the copy bundled with check-jsonschema), and what the
containers would run (the settings under Compose's environment, collectstatic, the
healthchecks) is run here directly.
"""

from __future__ import annotations

import copy
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"

APP_SERVICES = ["web", "worker", "code-worker", "scheduler"]
LONG_RUNNING = ["db", "redis", *APP_SERVICES]

# Settings the image fixes (VAR_DIR, STATIC_ROOT) or only the test suite changes.
NOT_FOR_OPERATORS = {"VAR_DIR", "STATIC_ROOT", "CACHE_BACKEND"}


# ---------------------------------------------------------------- reading the files


@cache
def compose_schema() -> dict:
    path = files("check_jsonschema.builtin_schemas") / "vendor" / "compose-spec.json"
    return json.loads(path.read_text(encoding="utf-8"))


def schema_errors(document) -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [error.message for error in validator.iter_errors(document)]


def compose_text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


def compose() -> dict:
    return yaml.safe_load(compose_text())


def services() -> dict:
    return compose()["services"]


def read_env_file(text: str, *, commented: bool = False) -> dict[str, str]:
    """KEY=VALUE lines as Compose reads them; with commented, also `# KEY=VALUE` ones."""
    pattern = r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$"
    values = {}
    for line in text.splitlines():
        match = re.match(pattern, line.strip())
        if match and (commented or not match[1]):
            values[match[2]] = match[3].strip()
    return values


def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE.read_text(encoding="utf-8"))


class InterpolationError(Exception):
    pass


# Compose's interpolation: $$ is a literal $, ${NAME}, ${NAME:-default}, ${NAME-default},
# ${NAME:?error}, ${NAME?error}, ${NAME:+alternative}, ${NAME+alternative} and $NAME.
_DOLLAR = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<invalid>))"
)


def interpolate(value, env: dict[str, str]):
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        if match["bare"]:
            return env.get(match["bare"], "")
        if match["name"] is None:
            raise InterpolationError(f"invalid interpolation in {value!r}")
        name, op, arg = match["name"], match["op"], match["arg"]
        present = name in env and (env[name] != "" or not (op or "").startswith(":"))
        if op in ("-", ":-"):
            return env[name] if present else arg
        if op in ("?", ":?"):
            if not present:
                raise InterpolationError(f"{name}: {arg}")
            return env[name]
        if op in ("+", ":+"):
            return arg if present else ""
        return env.get(name, "")

    return _DOLLAR.sub(substitute, value)


def filled_example() -> dict[str, str]:
    """.env.example with its required values filled in, as an operator would."""
    env = env_example()
    env["SECRET_KEY"] = "k7Qw-R2x_Lp9ZfT4mVb8NcJ3yHs6GdUe1AoXiKr5Wq-Tn0Pj2Lc8Mv"
    env["POSTGRES_PASSWORD"] = "pg-Password_0123456789"
    env["ALLOWED_HOSTS"] = "course.example.org"
    return env


def container_environment(service: str, dotenv: dict[str, str]) -> dict[str, str]:
    """A service's environment: env_file (.env) first, `environment` over it."""
    resolved = interpolate(services()[service], dotenv)
    env = {}
    env_files = [e if isinstance(e, str) else e["path"] for e in resolved.get("env_file", [])]
    if ".env" in {Path(path).name for path in env_files}:
        env.update(dotenv)
    env.update({key: str(value) for key, value in resolved.get("environment", {}).items()})
    return env


def healthcheck_command(service: str) -> list[str]:
    return services()[service]["healthcheck"]["test"]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


def instructions_of(keyword: str) -> list[str]:
    return [arguments for kw, arguments in dockerfile_instructions() if kw == keyword]


def collectstatic_run() -> str:
    [run] = [arguments for arguments in instructions_of("RUN") if "collectstatic" in arguments]
    return run


def dockerignored(path: str) -> bool:
    """Whether .dockerignore leaves `path` out of the build context (last match wins)."""
    ignored = False
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, re.escape(token)
            )
        # A pattern that names a directory leaves out everything under it.
        if re.fullmatch(f"{regex}(/.*)?", path):
            ignored = not negated
    return ignored


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


# ---------------------------------------------------------------- the Compose file


def test_it_validates_against_the_compose_specification():
    assert schema_errors(compose()) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c["services"]["web"].update(helthcheck={"test": ["CMD", "true"]}),
        lambda c: c["services"]["web"]["depends_on"]["db"].update(condition="service_ready"),
        lambda c: c["services"]["db"]["healthcheck"].update(interval=5),
        lambda c: c.update(services=list(c["services"])),
    ],
    ids=["unknown-key", "unknown-condition", "interval-not-a-duration", "services-not-a-map"],
)
def test_it_rejects_a_broken_copy_with_the_same_schema(breakage):
    broken = copy.deepcopy(compose())
    breakage(broken)
    assert schema_errors(broken) != []


def test_it_defines_the_services():
    assert {"db", "redis", "migrate", "web", "worker", "code-worker", "scheduler"} <= set(
        services()
    )


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_it_gives_each_long_running_service_a_healthcheck(service):
    healthcheck = services()[service]["healthcheck"]
    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    assert len(healthcheck["test"]) >= 2
    assert not healthcheck.get("disable", False)


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_it_restarts_long_running_services(service):
    assert services()[service]["restart"] in {"always", "unless-stopped"}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_it_starts_app_services_once_db_and_redis_are_healthy(service):
    depends_on = services()[service]["depends_on"]
    assert depends_on["db"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_it_migrates_and_loads_the_course_once_the_database_is_healthy():
    migrate = services()["migrate"]
    command = " ".join(migrate["command"])
    assert "manage.py migrate --no-input && python manage.py load_course" in command
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"


def test_it_keeps_the_database_in_a_named_volume():
    volume, _, target = services()["db"]["volumes"][0].partition(":")
    assert volume in compose()["volumes"]
    assert target == "/var/lib/postgresql/data"
    assert re.fullmatch(r"postgres:1[56](\.\d+)*", services()["db"]["image"])


def test_it_runs_the_processes_that_serve_students():
    assert services()["worker"]["command"][:4] == ["celery", "-A", "courseserver", "worker"]
    beat = services()["scheduler"]["command"]
    assert beat[:4] == ["celery", "-A", "courseserver", "worker"]
    assert "--beat" in beat
    # The sweep runs in the scheduler, from its own queue.
    assert beat[beat.index("--queues") + 1] == "housekeeping"
    assert beat[beat.index("--schedule") + 1] == "/tmp/celerybeat-schedule"
    assert services()["redis"]["image"].startswith("redis:7")


def test_it_runs_the_app_with_debug_off_against_postgres_and_redis():
    env = container_environment("web", filled_example())
    assert env["DEBUG"] == "false"
    assert env["DATABASE_URL"].startswith("postgres://course:pg-Password_0123456789@db:5432/")
    assert env["REDIS_URL"] == "redis://redis:6379/0"


@pytest.mark.parametrize("variable", ["SECRET_KEY", "POSTGRES_PASSWORD", "ALLOWED_HOSTS"])
def test_it_refuses_to_start_without_a_required_value(variable):
    env = filled_example()
    env[variable] = ""
    with pytest.raises(InterpolationError, match=variable):
        interpolate(compose(), env)
    del env[variable]
    with pytest.raises(InterpolationError, match=variable):
        interpolate(compose(), env)


def test_it_leaves_the_secrets_empty_in_the_env_example():
    example = env_example()
    assert example["SECRET_KEY"] == ""
    assert example["POSTGRES_PASSWORD"] == ""


def test_it_lists_every_interpolated_variable_in_the_env_example():
    used = set()
    for match in _DOLLAR.finditer(compose_text()):
        used.add(match["name"] or match["bare"])
    used.discard(None)
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "ALLOWED_HOSTS"} <= used
    assert used - set(env_example()) == set()


def test_it_escapes_every_dollar_meant_for_the_container():
    # A bare $NAME would be filled in by Compose from the host, not by the container's
    # shell; an invalid one makes Compose refuse the file.
    assert [m[0] for m in _DOLLAR.finditer(compose_text()) if m["bare"]] == []
    interpolate(compose(), filled_example())
    with pytest.raises(InterpolationError):
        interpolate({"test": "echo $ {HOSTNAME}"}, {})


def test_it_documents_every_setting_in_the_env_example():
    settings_source = (ROOT / "courseserver" / "settings.py").read_text(encoding="utf-8")
    read = set(
        re.findall(r"env(?:str|bool|int|float|list)\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_source)
    )
    read |= set(re.findall(r"os\.getenv\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_source))
    assert {"SECRET_KEY", "GRADING_TIMEOUT", "WORKER_CONCURRENCY"} <= read
    documented = set(read_env_file(ENV_EXAMPLE.read_text(encoding="utf-8"), commented=True))
    set_by_compose = set(services()["web"]["environment"])
    assert read - documented - set_by_compose - NOT_FOR_OPERATORS == set()


def test_it_configures_django_for_production_from_the_compose_environment():
    """The settings module, under the web container's environment, with every example value."""
    dotenv = read_env_file(ENV_EXAMPLE.read_text(encoding="utf-8"), commented=True)
    dotenv.update({k: v for k, v in filled_example().items() if v})
    code = (
        "import json; from courseserver import settings as s; print(json.dumps({"
        "'debug': s.DEBUG, 'db': s.DATABASES['default'], 'broker': s.CELERY_BROKER_URL,"
        "'hosts': s.ALLOWED_HOSTS, 'static': s.STORAGES['staticfiles']['BACKEND'],"
        "'secure': s.SESSION_COOKIE_SECURE}, default=str))"
    )
    result = run_python(code, container_environment("web", dotenv))
    assert result.returncode == 0, result.stderr
    configured = json.loads(result.stdout)
    assert configured["debug"] is False
    assert configured["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert (configured["db"]["HOST"], configured["db"]["PORT"]) == ("db", 5432)
    assert configured["db"]["NAME"] == configured["db"]["USER"] == "course"
    assert configured["broker"] == "redis://redis:6379/0"
    assert configured["hosts"] == ["course.example.org", "127.0.0.1"]
    assert configured["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert configured["secure"] is True


def production_environment() -> dict[str, str]:
    """The web container's environment, with every example value (commented ones too)."""
    dotenv = read_env_file(ENV_EXAMPLE.read_text(encoding="utf-8"), commented=True)
    dotenv.update({k: v for k, v in filled_example().items() if v})
    return container_environment("web", dotenv)


def test_it_passes_the_deploy_check_under_the_compose_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **production_environment()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_sends_hsts_for_a_year_and_secure_cookies_under_the_compose_environment():
    code = (
        "import json; from courseserver import settings as s; print(json.dumps(["
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE,"
        "s.CSRF_COOKIE_SECURE]))"
    )
    result = run_python(code, production_environment())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [31536000, True, True, True]
    result = run_python(code, {**production_environment(), "SECURE_HSTS_SECONDS": "0"})
    assert json.loads(result.stdout)[0] == 0


def test_it_refuses_a_short_secret_key_under_the_compose_environment():
    """The settings' own guard, under Compose's environment, rejects a short key."""
    dotenv = filled_example()
    dotenv["SECRET_KEY"] = "too-short"
    result = run_python("import courseserver.settings", container_environment("web", dotenv))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# ---------------------------------------------------------------- healthchecks


class _HealthServer(BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []

    def do_GET(self):
        type(self).paths.append(self.path)
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    handler = type("Handler", (_HealthServer,), {"paths": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def web_healthcheck_against(port: int) -> subprocess.CompletedProcess:
    kind, *argv = healthcheck_command("web")
    assert kind == "CMD"
    assert argv[:2] == ["python", "-c"]
    assert "127.0.0.1:8000" in argv[2]
    return run_python(argv[2].replace("127.0.0.1:8000", f"127.0.0.1:{port}"))


def test_it_checks_the_web_server_at_the_health_endpoint(health_server):
    server, handler = health_server
    result = web_healthcheck_against(server.server_address[1])
    assert result.returncode == 0, result.stderr
    assert handler.paths == ["/health/"]
    assert resolve("/health/").url_name == "ex-health"


def test_it_reports_the_web_server_unhealthy_when_health_says_503(health_server):
    server, handler = health_server
    handler.status = 503
    assert web_healthcheck_against(server.server_address[1]).returncode != 0


def test_it_reports_the_web_server_unhealthy_when_nothing_listens():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert web_healthcheck_against(port).returncode != 0


def test_it_pings_the_worker_by_its_node_name():
    kind, command = healthcheck_command("worker")
    assert kind == "CMD-SHELL"
    pinged = interpolate(command, {})
    assert pinged.startswith("celery -A courseserver inspect ping ")
    assert "--destination celery@$HOSTNAME" in pinged


# ---------------------------------------------------------------- scaling out

# `docker compose up --scale worker=4`: services that may run in several containers.
SCALABLE = ["worker", "code-worker"]


def node_name(command: list[str]) -> str:
    """The Celery node name a worker's command line gives it (Celery's own default:
    celery@%h, %h being the host name)."""
    # What comes before celery (`nice -n 10`) is not Celery's.
    command = command[command.index("celery") :]
    for i, arg in enumerate(command):
        if arg in ("-n", "--hostname"):
            return command[i + 1]
        if arg.startswith("--hostname="):
            return arg.partition("=")[2]
    return "celery@%h"


@pytest.mark.parametrize("service", SCALABLE)
def test_it_lets_the_workers_scale_out(service):
    """Each copy is a container of its own: its own host name, so its own node name;
    no fixed container name and no published port that a second copy would clash on."""
    definition = services()[service]
    assert "container_name" not in definition
    assert "hostname" not in definition
    assert not definition.get("ports")
    assert "%h" in node_name(definition["command"])


@pytest.mark.parametrize("service", SCALABLE)
def test_it_pings_each_copy_of_a_worker_by_its_own_node_name(service):
    kind, command = healthcheck_command(service)
    assert kind == "CMD-SHELL"
    node = node_name(services()[service]["command"]).replace("%h", "$HOSTNAME")
    assert f"--destination {node} " in interpolate(command, {})


def test_it_sends_the_sweep_from_the_scheduler_alone():
    """Scaling the workers does not multiply the sweep: no worker embeds the scheduler."""
    for service in SCALABLE:
        command = services()[service]["command"]
        assert "--beat" not in command and "-B" not in command
    scheduler = services()["scheduler"]["command"]
    assert "beat" in scheduler or "--beat" in scheduler


def test_it_reads_the_node_name_of_a_worker_command():
    assert node_name(["celery", "worker"]) == "celery@%h"
    assert node_name(["celery", "worker", "-n", "a@host1"]) == "a@host1"
    assert node_name(["celery", "worker", "--hostname", "code@%h"]) == "code@%h"
    assert node_name(["celery", "worker", "--hostname=b@%h"]) == "b@%h"
    assert node_name(["nice", "-n", "10", "celery", "worker"]) == "celery@%h"


def scheduler_healthcheck(schedule: Path) -> int:
    kind, *argv = healthcheck_command("scheduler")
    assert kind == "CMD"
    assert argv[:2] == ["python", "-c"]
    assert "/tmp/celerybeat-schedule" in argv[2]
    return run_python(argv[2].replace("/tmp/celerybeat-schedule", str(schedule))).returncode


def test_it_reports_the_scheduler_healthy_while_it_rewrites_its_schedule(tmp_path):
    (tmp_path / "celerybeat-schedule.dat").write_bytes(b"")
    assert scheduler_healthcheck(tmp_path / "celerybeat-schedule") == 0


def test_it_reports_the_scheduler_unhealthy_when_its_schedule_is_stale(tmp_path):
    stale = tmp_path / "celerybeat-schedule"
    stale.write_bytes(b"")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    assert scheduler_healthcheck(stale) != 0


def test_it_reports_the_scheduler_unhealthy_before_any_schedule(tmp_path):
    assert scheduler_healthcheck(tmp_path / "celerybeat-schedule") != 0


# ---------------------------------------------------------------- the image


def test_it_builds_on_python_3_11_slim():
    assert instructions_of("FROM")[0].startswith("python:3.11-slim")


def test_it_installs_the_locked_dependencies_with_hashes():
    copied = [args.split() for args in instructions_of("COPY")]
    [destination] = [args[-1] for args in copied if args[0] == "requirements.lock"]
    installs = [args for args in instructions_of("RUN") if "pip install" in args]
    assert installs
    for install in installs:
        assert "--require-hashes" in install
        assert f"-r {destination}" in install


def test_it_runs_as_an_unprivileged_user():
    instructions = dockerfile_instructions()
    users = [i for i, (kw, _) in enumerate(instructions) if kw == "USER"]
    assert users
    assert instructions[users[-1]][1].split(":")[0] not in {"root", "0"}
    assert users[-1] < max(i for i, (kw, _) in enumerate(instructions) if kw == "CMD")


def test_it_serves_gunicorn_on_all_interfaces():
    [cmd] = instructions_of("CMD")
    argv = json.loads(cmd)
    assert argv[0] == "gunicorn" and "courseserver.wsgi" in argv
    assert argv[argv.index("--config") + 1] == "python:courseserver.gunicorn_conf"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8000"
    assert "web" in services() and "command" not in services()["web"]


def test_it_keeps_the_build_time_key_out_of_the_image():
    for keyword in ("ENV", "ARG"):
        assert not any("SECRET_KEY" in args for args in instructions_of(keyword))
    assert re.search(r"\bDEBUG=false\b", collectstatic_run())
    assert re.search(r"\bSECRET_KEY=\S+", collectstatic_run())


def test_it_collects_static_files_as_the_image_build_does(tmp_path):
    run = collectstatic_run()
    env = dict(re.findall(r"\b([A-Z_]+)=(\S+)", run.split("python manage.py collectstatic")[0]))
    env["STATIC_ROOT"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text(encoding="utf-8"))
    hashed = manifest["paths"]["admin/css/base.css"]
    assert hashed != "admin/css/base.css"
    assert (tmp_path / hashed).exists()


@pytest.mark.parametrize(
    "path", [".env", ".env.production", ".venv/bin/python", ".git/HEAD", "var/db.sqlite3"]
)
def test_it_keeps_secrets_and_local_state_out_of_the_build_context(path):
    assert dockerignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "requirements.lock",
        "manage.py",
        "courseserver/settings.py",
        "exercises/views.py",
        "grading/parser.py",
        "course/course.yaml",
    ],
)
def test_it_sends_what_the_image_needs_to_the_build_context(path):
    assert not dockerignored(path)


def test_it_runs_code_answers_on_their_own_queue_and_worker():
    command = services()["code-worker"]["command"]
    assert command[:3] == ["nice", "-n", "10"]
    command = command[3:]
    assert command[:4] == ["celery", "-A", "courseserver", "worker"]
    assert command[command.index("--queues") + 1] == "code"
    assert "--queues" not in services()["worker"]["command"]


def test_it_gives_the_sandbox_privileges_to_the_code_worker_alone():
    sandbox = {"seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"}
    for name, service in services().items():
        options = set(service.get("security_opt", []))
        if name == "code-worker":
            assert sandbox <= options
            assert "no-new-privileges:true" in options
        else:
            assert options & sandbox == set()
        # No service gets a capability back, nor runs privileged.
        assert not service.get("cap_add")
        assert not service.get("privileged", False)


def test_it_installs_bubblewrap_in_the_image():
    assert "apt-get install -y --no-install-recommends bubblewrap" in DOCKERFILE.read_text(
        encoding="utf-8"
    )
