"""A local, real Elasticsearch 8.14 node for development and tests (``warta es start|stop|status``).

The node is built by Maven from Elastic's own artifacts on Maven Central (``es/pom.xml``; why
not a ready-made runner is in ``es/README.md``) and runs as one ``java`` process. Its data,
logs and pid file live under ``settings.es_home/<port>/``, so nodes on different ports (a
developer's and the tests') never share state.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.settings import PROJECT_ROOT, Settings

ES_PROJECT = PROJECT_ROOT / "es"
MAIN_CLASS = "dev.warta.es.LocalNode"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class LocalNodeError(RuntimeError):
    """The local node could not be built, started or stopped; the message says what to do."""


@dataclass(frozen=True, slots=True)
class NodePaths:
    home: Path
    port: int

    @property
    def base(self) -> Path:
        return self.home / str(self.port)

    @property
    def pid_file(self) -> Path:
        return self.base / "node.pid"

    @property
    def log_file(self) -> Path:
        return self.base / "node.log"

    @property
    def classpath_file(self) -> Path:
        return self.home / "classpath.txt"


def node_paths(settings: Settings) -> NodePaths:
    url = urlsplit(settings.es_url)
    return NodePaths(settings.es_home, url.port or 9200)


def health(target: str | Settings, timeout: float = 2.0) -> str | None:
    """The cluster's health colour; "unauthorized" when a node answers but refuses the credentials
    (HTTP 401/403); None when nothing answers. Given settings, it sends their credentials (API key
    or basic auth) and trusts their CA, as the pipeline's client does."""
    settings = target if isinstance(target, Settings) else Settings(es_url=target)
    request = urllib.request.Request(f"{settings.es_url.rstrip('/')}/_cluster/health")
    if settings.es_api_key is not None:
        request.add_header("Authorization", f"ApiKey {settings.es_api_key.get_secret_value()}")
    elif settings.es_username and settings.es_password is not None:
        pair = f"{settings.es_username}:{settings.es_password.get_secret_value()}".encode()
        request.add_header("Authorization", f"Basic {base64.b64encode(pair).decode()}")
    context = None
    if settings.es_url.startswith("https://"):
        context = ssl.create_default_context(
            cafile=str(settings.es_ca_certs) if settings.es_ca_certs else None
        )
        if not settings.es_verify_certs:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:
            body = resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return "unauthorized" if err.code in (401, 403) else None
    except (urllib.error.URLError, OSError, ValueError):
        return None
    for colour in ("green", "yellow", "red"):
        if f'"status":"{colour}"' in body:
            return colour
    return None


def _require_tools() -> tuple[str, str]:
    java, mvn = shutil.which("java"), shutil.which("mvn")
    missing = [name for name, path in (("java (JDK 17+)", java), ("mvn (Maven 3)", mvn)) if not path]
    if missing:
        raise LocalNodeError(
            "cannot start a local Elasticsearch: "
            + " and ".join(missing)
            + " not found on PATH. Install them (Debian: apt-get install openjdk-17-jdk-headless maven), "
            "or point WARTA_ES_URL at a running Elasticsearch 8.x."
        )
    assert java and mvn
    return java, mvn


def build_classpath(paths: NodePaths, mvn: str) -> str:
    """Compile the launcher and resolve its jars (cached until es/ changes)."""
    sources = [ES_PROJECT / "pom.xml", *sorted((ES_PROJECT / "src").rglob("*.java"))]
    newest = max(p.stat().st_mtime for p in sources)
    cp_file, classes = paths.classpath_file, ES_PROJECT / "target" / "classes"
    fresh = cp_file.exists() and cp_file.stat().st_mtime >= newest and classes.exists()
    if not fresh:
        _run_maven(mvn, cp_file)
    return f"{classes}{os.pathsep}{cp_file.read_text().strip()}"


def _run_maven(mvn: str, cp_file: Path) -> None:
    cp_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(ES_PROJECT / "pom.xml"),
        "compile",
        "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath",
        f"-Dmdep.outputFile={cp_file}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LocalNodeError(
            f"Maven could not build the local node ({' '.join(cmd)}):\n{done.stdout}{done.stderr}"
        )


def _read_pid(paths: NodePaths) -> int | None:
    """The pid in this folder's pid file, if that process is alive and proven to be this folder's
    node: its command line runs the node's main class on this very data folder. A stale file (the
    pid reused by another process, or a copied project folder naming the original's node) is no
    proof, so nothing else is ever signalled."""
    try:
        pid = int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_our_node(pid, paths) else None


def _is_our_node(pid: int, paths: NodePaths) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:  # gone, or no /proc to prove who it is: not ours to signal
        return False
    args = [a.decode("utf-8", "replace") for a in argv]
    return MAIN_CLASS in args and str(paths.base) in args


def start(settings: Settings) -> bool:
    """Start a node at ``settings.es_url`` unless one answers already; True if this call started it."""
    answer = health(settings)
    if answer == "unauthorized":
        raise LocalNodeError(
            f"a node answers at {settings.es_url} but refuses the credentials (HTTP 401/403): set "
            "WARTA_ES_USERNAME and WARTA_ES_PASSWORD, or WARTA_ES_API_KEY, for it; no node is started"
        )
    if answer:
        return False
    url = urlsplit(settings.es_url)
    if url.hostname not in LOCAL_HOSTS:
        raise LocalNodeError(
            f"nothing answers at {settings.es_url}, and it is not local, so no node is started"
        )
    java, mvn = _require_tools()
    paths = node_paths(settings)
    if _read_pid(paths):
        raise LocalNodeError(
            f"a node process is running (pid file {paths.pid_file}) but not answering; "
            f"see {paths.log_file} or run `warta es stop`"
        )
    classpath = build_classpath(paths, mvn)
    paths.base.mkdir(parents=True, exist_ok=True)
    heap = settings.es_heap
    cmd = [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-Dfile.encoding=UTF-8",
        "-cp",
        classpath,
        MAIN_CLASS,
        str(paths.base),
        str(paths.port),
    ]
    with paths.log_file.open("ab") as log:
        process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    paths.pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + settings.es_start_timeout_s
    while time.monotonic() < deadline:
        if health(settings) in ("green", "yellow"):
            return True
        if process.poll() is not None:
            paths.pid_file.unlink(missing_ok=True)
            raise LocalNodeError(
                f"Elasticsearch exited with code {process.returncode}:\n{_tail(paths.log_file)}"
            )
        time.sleep(0.5)
    raise LocalNodeError(
        f"Elasticsearch did not become healthy within {settings.es_start_timeout_s:.0f}s:\n"
        f"{_tail(paths.log_file)}"
    )


def stop(settings: Settings, timeout_s: float = 60.0) -> bool:
    """Stop the node this project started on the configured port; True if one was running."""
    paths = node_paths(settings)
    pid = _read_pid(paths)
    if pid is None:
        paths.pid_file.unlink(missing_ok=True)  # stale: names no node of this folder
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except PermissionError as err:
        raise LocalNodeError(
            f"the node of {paths.base} (pid {pid}) belongs to another user; stop it as that user"
        ) from err
    except ProcessLookupError:
        paths.pid_file.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _exited(pid):
            break
        time.sleep(0.3)
    else:
        os.kill(pid, signal.SIGKILL)
    paths.pid_file.unlink(missing_ok=True)
    return True


def _exited(pid: int) -> bool:
    """True once the process is gone. When this process started the node, the node is a child
    that stays a zombie (still 'alive' to kill -0) until reaped, so reap it first."""
    try:
        reaped, _status = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return True
    except ChildProcessError:
        pass  # not our child: another process started it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def status(settings: Settings) -> dict[str, object]:
    paths = node_paths(settings)
    return {
        "url": settings.es_url,
        "health": health(settings),
        "local_pid": _read_pid(paths),
        "data": str(paths.base),
    }


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
