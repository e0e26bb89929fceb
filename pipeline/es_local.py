"""A local, real Elasticsearch node for development and tests (``warta es start|stop|status``).

Two kinds, both from Elastic's own artifacts on Maven Central (es/README.md):

- 9.x (the default, ``WARTA_ES_LOCAL_VERSION``): a node built by Maven from the server and
  transport-netty4 jars (``es/pom.xml``), one ``java`` process on a JDK 21+.
- 8.x: Elastic's distribution zip (``integ-test-zip``) run by its own ``bin/elasticsearch``, with
  X-Pack security: an ``https://`` URL gets TLS from a CA made by ``elasticsearch-certutil`` and
  the configured user as its administrator.

Data, logs and the pid file live under ``settings.es_home/<port>/``, so nodes on different ports
(a developer's, the tests', a local cluster's) never share state.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.settings import PROJECT_ROOT, Settings

ES_PROJECT = PROJECT_ROOT / "es"
ANALYSIS_PLUGIN = ES_PROJECT / "analysis-plugin"  # Warta's analyzers for an 8.x distribution
MAIN_CLASS = "dev.warta.es.LocalNode"
LAUNCHER_CLASS = "org.elasticsearch.launcher.CliToolLauncher"  # a distribution's bin/elasticsearch
JVM_ROOT = Path("/usr/lib/jvm")
MIN_JAVA = {9: 21, 8: 17}  # the oldest JDK each Elasticsearch line runs on
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
    try:
        context = None
        if settings.es_url.startswith("https://"):
            context = ssl.create_default_context(
                cafile=str(settings.es_ca_certs) if settings.es_ca_certs else None
            )
            if not settings.es_verify_certs:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
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


def _require_maven() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise LocalNodeError(
            "cannot start a local Elasticsearch: mvn (Maven 3) not found on PATH. Install it "
            "(Debian: apt-get install maven), or point WARTA_ES_URL at a running Elasticsearch."
        )
    return mvn


def major_version(version: str) -> int:
    try:
        return int(version.split(".", 1)[0])
    except ValueError:
        raise LocalNodeError(f"WARTA_ES_LOCAL_VERSION is not a version number: {version!r}") from None


def _java_feature(home: Path) -> int | None:
    """The JDK's feature version (17, 21, 25) from its ``release`` file; None if not a JDK."""
    try:
        release = (home / "release").read_text()
    except OSError:
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)', release, re.MULTILINE)
    has_tools = (home / "bin" / "java").exists() and (home / "bin" / "javac").exists()
    return int(match.group(1)) if match and has_tools else None


def java_home(settings: Settings, version: str) -> Path:
    """The JDK for this Elasticsearch line: ``WARTA_ES_JAVA_HOME`` if set, else the oldest JDK
    (``JAVA_HOME``, then ``/usr/lib/jvm/*``) that the line supports: 21+ for 9.x, 17+ for 8.x."""
    minimum = MIN_JAVA[9] if major_version(version) >= 9 else MIN_JAVA[8]
    if settings.es_java_home is not None:
        feature = _java_feature(settings.es_java_home)
        if feature is None or feature < minimum:
            raise LocalNodeError(
                f"WARTA_ES_JAVA_HOME={settings.es_java_home} is not a JDK {minimum}+ "
                f"(Elasticsearch {version} needs one)"
            )
        return settings.es_java_home
    candidates = [Path(os.environ["JAVA_HOME"])] if os.environ.get("JAVA_HOME") else []
    candidates += sorted(JVM_ROOT.glob("*")) if JVM_ROOT.is_dir() else []
    usable = [(f, h) for h in candidates if (f := _java_feature(h)) is not None and f >= minimum]
    if not usable:
        raise LocalNodeError(
            f"Elasticsearch {version} needs a JDK {minimum} or newer; none found in JAVA_HOME or "
            f"{JVM_ROOT}. Install one (Temurin {minimum}+), set WARTA_ES_JAVA_HOME to it, or "
            "point WARTA_ES_URL at a running Elasticsearch."
        )
    return min(usable, key=lambda fh: fh[0])[1]


def _maven(mvn: str, java: Path, pom: Path, *goals: str) -> None:
    cmd = [mvn, "-B", "-q", "-f", str(pom), *goals]
    env = {**os.environ, "JAVA_HOME": str(java)}
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise LocalNodeError(f"Maven failed (JAVA_HOME={java} {' '.join(cmd)}):\n{done.stdout}{done.stderr}")


def _sources_digest() -> str:
    """A digest of es/ (poms and Java sources): builds are kept per digest, so rebuilding never
    touches the classes a running node still loads from."""
    digest = hashlib.sha256()
    for path in sorted([*ES_PROJECT.rglob("pom.xml"), *(ES_PROJECT / "src").rglob("*.java")]):
        digest.update(path.relative_to(ES_PROJECT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def build_classpath(settings: Settings, mvn: str, java: Path, version: str) -> str:
    """Compile the 9.x launcher and resolve its jars, once per version and state of es/."""
    build = settings.es_home / "build" / f"node-{version}-{_sources_digest()}"
    cp_file = build / "classpath.txt"
    if not cp_file.exists():
        _maven(
            mvn,
            java,
            ES_PROJECT / "pom.xml",
            "compile",
            "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath",
            f"-Delasticsearch.version={version}",
            f"-Dwarta.build.dir={build}",
            f"-Dmdep.outputFile={cp_file}.tmp",
        )
        Path(f"{cp_file}.tmp").rename(cp_file)
    return f"{build / 'classes'}{os.pathsep}{cp_file.read_text().strip()}"


def _distribution(settings: Settings, mvn: str, java: Path, version: str) -> Path:
    """Elastic's 8.x distribution zip (integ-test-zip: server, transport-netty4, x-pack-core and
    x-pack-security modules), unpacked once under ``es_home/dist/<version>``."""
    dist = settings.es_home / "dist" / version
    if (dist / "bin" / "elasticsearch").exists():
        return dist
    unpacked = settings.es_home / "dist" / f".unpack-{version}"
    shutil.rmtree(unpacked, ignore_errors=True)
    _maven(
        mvn,
        java,
        ANALYSIS_PLUGIN / "pom.xml",
        "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:unpack",
        f"-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip",
        f"-DoutputDirectory={unpacked}",
        # The unpack goal skips an artifact its marker file says is unpacked; markers kept in the
        # build folder, inside this scratch folder, never outlive the unpacked files.
        f"-Dwarta.build.dir={unpacked / '.build'}",
    )
    shutil.rmtree(dist, ignore_errors=True)
    (unpacked / f"elasticsearch-{version}").rename(dist)
    shutil.rmtree(unpacked, ignore_errors=True)
    return dist


def _analysis_plugin(settings: Settings, mvn: str, java: Path, version: str) -> Path:
    """Warta's analyzers as a plugin folder for this distribution version (the zip has no
    analysis-common module), once per version and state of es/."""
    build = settings.es_home / "build" / f"analysis-{version}-{_sources_digest()}"
    plugin = build / "plugin"
    if (plugin / "plugin-descriptor.properties").exists():
        return plugin
    _maven(
        mvn,
        java,
        ANALYSIS_PLUGIN / "pom.xml",
        "package",
        f"-Delasticsearch.version={version}",
        f"-Dwarta.build.dir={build}",
    )
    plugin.mkdir(parents=True, exist_ok=True)
    shutil.copy(build / "warta-analysis-1.0.0.jar", plugin / "warta-analysis.jar")
    (plugin / "plugin-descriptor.properties").write_text(
        "description=Warta's Indonesian and English analyzers (es/README.md)\n"
        "version=1.0.0\nname=warta-analysis\nclassname=dev.warta.es.LanguageAnalyzersPlugin\n"
        f"java.version=17\nelasticsearch.version={version}\n"
    )
    return plugin


def _read_pid(paths: NodePaths) -> int | None:
    """The pid in this folder's pid file, if that process is alive and proven to be this folder's
    node: its command line runs the node (either kind) on this very folder. A stale file (the
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
    embedded = MAIN_CLASS in args and str(paths.base) in args
    distribution = LAUNCHER_CLASS in args and f"-Des.path.home={paths.base / 'home'}" in args
    return embedded or distribution


def node_settings(settings: Settings, port: int, peers: Sequence[int] = ()) -> dict[str, str]:
    """The node's settings, the same for both kinds of node. ``peers``: the HTTP ports of every
    node of a local cluster (this one included); empty for a single node."""
    name = f"warta-{port}"
    values = {
        "cluster.name": f"warta-local-{min(peers)}" if peers else "warta-local",
        "node.name": name,
        "network.host": "127.0.0.1",
        "http.port": str(port),
        # A developer disk that is 90% full must not turn indices read-only mid-test.
        "cluster.routing.allocation.disk.threshold_enabled": "false",
        "action.auto_create_index": "true",
    }
    if peers:
        values["transport.port"] = str(port + 100)
        values["discovery.seed_hosts"] = ",".join(f"127.0.0.1:{p + 100}" for p in peers)
        values["cluster.initial_master_nodes"] = ",".join(f"warta-{p}" for p in peers)
    else:
        # Internal for one node, but it must not collide with another local node's.
        values["transport.port"] = f"{port + 100}-{port + 199}"
        values["discovery.type"] = "single-node"
    return values


def _secured(settings: Settings) -> bool:
    return settings.es_url.startswith("https://")


def ca_path(settings: Settings) -> Path:
    """Where a secured local node's CA certificate goes: ``WARTA_ES_CA_CERTS`` if set."""
    return settings.es_ca_certs or node_paths(settings).base / "ca.crt"


def _node_user() -> tuple[str, str] | None:
    """Elasticsearch's distribution refuses to run as root: as root it runs as ``nobody``."""
    return ("nobody", "nogroup") if os.geteuid() == 0 else None


def _as_node_user(paths: NodePaths, cmd: list[str], java: Path) -> None:
    user = _node_user()
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ES_JAVA_HOME": str(java)},
        user=user[0] if user else None,
        group=user[1] if user else None,
        cwd=paths.base,
    )
    if done.returncode != 0:
        raise LocalNodeError(f"{' '.join(cmd[:2])} failed:\n{done.stdout}{done.stderr}")


def _secure_distribution(settings: Settings, paths: NodePaths, home: Path, java: Path) -> dict[str, str]:
    """TLS with a CA made here by ``elasticsearch-certutil``, and the configured user as a
    file-realm superuser: what an operator's first secured node has."""
    if not (settings.es_username and settings.es_password):
        raise LocalNodeError(
            "a secured local node (https:// in WARTA_ES_URL) needs WARTA_ES_USERNAME and "
            "WARTA_ES_PASSWORD: they become its administrator"
        )
    certs = home / "config" / "certs"
    if not (certs / "node" / "node.crt").exists():
        certs.mkdir(parents=True, exist_ok=True)
        _chown(certs)  # the rest of the folder is the node user's already (``_launch``)
        certutil = str(home / "bin" / "elasticsearch-certutil")
        _as_node_user(paths, [certutil, "ca", "--pem", "--silent", "--out", str(certs / "ca.zip")], java)
        _unzip(certs / "ca.zip", certs)
        _as_node_user(
            paths,
            [
                certutil,
                "cert",
                "--pem",
                "--silent",
                "--name",
                "node",
                "--ca-cert",
                str(certs / "ca" / "ca.crt"),
                "--ca-key",
                str(certs / "ca" / "ca.key"),
                "--ip",
                "127.0.0.1",
                "--ip",
                "::1",
                "--dns",
                "localhost",
                "--out",
                str(certs / "node.zip"),
            ],
            java,
        )
        _unzip(certs / "node.zip", certs)
    # The configured user, with the configured password, every start (it may have changed).
    users = str(home / "bin" / "elasticsearch-users")
    with suppress(LocalNodeError):
        _as_node_user(paths, [users, "userdel", settings.es_username], java)
    password = settings.es_password.get_secret_value()
    _as_node_user(paths, [users, "useradd", settings.es_username, "-p", password, "-r", "superuser"], java)
    ca = ca_path(settings)
    ca.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(certs / "ca" / "ca.crt", ca)
    tls = {
        "key": "certs/node/node.key",
        "certificate": "certs/node/node.crt",
        "certificate_authorities": "certs/ca/ca.crt",
    }
    values = {"xpack.security.enabled": "true", "xpack.security.http.ssl.enabled": "true"}
    values |= {f"xpack.security.http.ssl.{k}": v for k, v in tls.items()}
    values["xpack.security.transport.ssl.enabled"] = "true"
    values["xpack.security.transport.ssl.verification_mode"] = "certificate"
    values |= {f"xpack.security.transport.ssl.{k}": v for k, v in tls.items()}
    return values


def _unzip(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(into)
    _chown(into)


def _chown(path: Path) -> None:
    """Hand a distribution node's folder to the user it runs as (root only)."""
    user = _node_user()
    if user is None:
        return
    for item in [path, *path.rglob("*")]:
        shutil.chown(item, *user)


def _launch(settings: Settings, port: int, peers: Sequence[int] = ()) -> subprocess.Popen[bytes]:
    mvn = _require_maven()
    version = settings.es_local_version
    java = java_home(settings, version)
    paths = NodePaths(settings.es_home, port)
    if _read_pid(paths):
        raise LocalNodeError(
            f"a node process is running (pid file {paths.pid_file}) but not answering; "
            f"see {paths.log_file} or run `warta es stop`"
        )
    paths.base.mkdir(parents=True, exist_ok=True)
    values = node_settings(settings, port, peers)
    user = None
    env = dict(os.environ)
    if major_version(version) >= 9:
        if _secured(settings):
            raise LocalNodeError(
                "the local 9.x node is built from the server jars and has no security module; "
                "for a secured local node set WARTA_ES_LOCAL_VERSION to an 8.x version "
                "(Elastic's distribution zip, es/README.md)"
            )
        classpath = build_classpath(settings, mvn, java, version)
        cmd = [
            str(java / "bin" / "java"),
            f"-Xms{settings.es_heap}",
            f"-Xmx{settings.es_heap}",
            "-XX:+UseG1GC",
            "-Dfile.encoding=UTF-8",
            "--enable-native-access=ALL-UNNAMED",
            "--add-modules=jdk.incubator.vector",
            "-cp",
            classpath,
            MAIN_CLASS,
            str(paths.base),
        ]
    else:
        dist = _distribution(settings, mvn, java, version)
        home = paths.base / "home"
        if not (home / "bin" / "elasticsearch").exists():
            shutil.copytree(dist, home, symlinks=True, dirs_exist_ok=True)
        plugin = home / "plugins" / "warta-analysis"
        shutil.rmtree(plugin, ignore_errors=True)
        shutil.copytree(_analysis_plugin(settings, mvn, java, version), plugin)
        values |= {"path.data": str(paths.base / "data"), "path.logs": str(paths.base / "logs")}
        _chown(paths.base)  # once, before its own tools run in it as the node user
        if _secured(settings):
            values |= _secure_distribution(settings, paths, home, java)
        else:
            values["xpack.security.enabled"] = "false"
        user = _node_user()
        env |= {
            "ES_JAVA_HOME": str(java),
            "ES_JAVA_OPTS": f"-Xms{settings.es_heap} -Xmx{settings.es_heap}",
        }
        cmd = [str(home / "bin" / "elasticsearch")]
    cmd += [f"-E{key}={value}" for key, value in values.items()]
    with paths.log_file.open("ab") as log:
        process = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            user=user[0] if user else None,
            group=user[1] if user else None,
        )
    paths.pid_file.write_text(f"{process.pid}\n")
    return process


def _local_settings(settings: Settings) -> Settings:
    """The settings to reach a local node with: a secured one's CA is the one it made."""
    if _secured(settings) and settings.es_ca_certs is None:
        return settings.model_copy(update={"es_ca_certs": ca_path(settings)})
    return settings


def _check_startable(settings: Settings) -> bool:
    """False if a node answers already; raises if none can or should be started here."""
    answer = health(_local_settings(settings))
    if answer == "unauthorized":
        raise LocalNodeError(
            f"a node answers at {settings.es_url} but refuses the credentials (HTTP 401/403): set "
            "WARTA_ES_USERNAME and WARTA_ES_PASSWORD, or WARTA_ES_API_KEY, for it; no node is started"
        )
    if answer:
        return False
    if urlsplit(settings.es_url).hostname not in LOCAL_HOSTS:
        raise LocalNodeError(
            f"nothing answers at {settings.es_url}, and it is not local, so no node is started"
        )
    return True


def start(settings: Settings) -> bool:
    """Start a node at ``settings.es_url`` unless one answers already; True if this call started it."""
    if not _check_startable(settings):
        return False
    port = node_paths(settings).port
    _wait_healthy([(_local_settings(settings), port, _launch(settings, port))], settings)
    return True


def start_cluster(settings: Settings, ports: Sequence[int]) -> None:
    """Start a local cluster: one node per HTTP port, all on loopback, forming one cluster.
    ``settings.es_url`` names the first node; each node keeps its own folder, log and pid file."""
    if not _check_startable(settings):
        raise LocalNodeError(f"a node already answers at {settings.es_url}")
    launched = []
    try:
        for port in ports:
            node = _node_settings_for(settings, port)
            launched.append((node, port, _launch(node, port, ports)))
        _wait_healthy(launched, settings)
    except BaseException:  # no half-started cluster left behind
        stop_cluster(settings, [port for _node, port, _process in launched])
        raise


def stop_cluster(settings: Settings, ports: Sequence[int]) -> None:
    for port in ports:
        stop(_node_settings_for(settings, port))


def _node_settings_for(settings: Settings, port: int) -> Settings:
    url = urlsplit(settings.es_url)
    return settings.model_copy(update={"es_url": f"{url.scheme}://{url.hostname}:{port}"})


def _wait_healthy(nodes: Sequence[tuple[Settings, int, subprocess.Popen[bytes]]], settings: Settings) -> None:
    deadline = time.monotonic() + settings.es_start_timeout_s
    waiting = list(nodes)
    while waiting and time.monotonic() < deadline:
        for node in list(waiting):
            reach, port, process = node
            if health(reach) in ("green", "yellow"):
                waiting.remove(node)
            elif process.poll() is not None:
                paths = NodePaths(settings.es_home, port)
                paths.pid_file.unlink(missing_ok=True)
                raise LocalNodeError(
                    f"Elasticsearch exited with code {process.returncode}:\n{_tail(paths.log_file)}"
                )
        time.sleep(0.5)
    if waiting:
        paths = NodePaths(settings.es_home, waiting[0][1])
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
    else:  # the whole group: a distribution's launcher has the server JVM as a child
        os.killpg(pid, signal.SIGKILL)
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
