"""Flower's Deployment Engine on this machine: a SuperLink, SuperNodes, and a run between them.

Every part is a process of Flower's own (``flower-superlink``, ``flower-supernode``,
``flwr run``), bound to loopback, with telemetry off and no dependency installation at run time.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ethica.errors import EngineError, InputError

#: Flower's telemetry stays off in every process ethica starts (and in Flower's docs' variable).
NO_TELEMETRY = {"FLWR_TELEMETRY_ENABLED": "0"}

APP_PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "ethica-federated-{app}"
version = "1.0.0"
description = "ethica's federated {app}, on Flower"
license = "Apache-2.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "ethica"

[tool.flwr.app.components]
serverapp = "ethica.federated.{module}:server_app"
clientapp = "ethica.federated.{module}:client_app"

[tool.flwr.app.config]
plan = ""
result = ""
transcript = ""
"""

#: The Flower apps ethica runs: the module holding each one's server and client app.
APPS = {
    "audit": ("_flower_coordinator", "_flower_site"),
    "training": ("_flower_training",) * 2,
    "trees": ("_flower_trees",) * 2,
}


#: The folder of Flower's commands, when Flower lives in a venv of its own (its pins clash).
FLOWER_BIN_VARIABLE = "ETHICA__FEDERATED__FLOWER_BIN"


def flower_bin() -> Path:
    """Find the folder of Flower's commands: configured, beside this Python, or on PATH."""
    configured = os.environ.get(FLOWER_BIN_VARIABLE)
    if configured:
        folder = Path(configured)
        if not (folder / "flower-superlink").exists():
            raise EngineError(
                f"{FLOWER_BIN_VARIABLE}={configured} has no flower-superlink; point it at the "
                "bin folder of a venv with ethica[federated] installed"
            )
        return folder
    beside = Path(sys.executable).parent
    if (beside / "flower-superlink").exists():
        return beside
    found = shutil.which("flower-superlink")
    if found is None:
        raise EngineError(
            "Flower is not installed: pip install 'ethica[federated]' (in a venv of its own if "
            f"its pins clash with yours, then set {FLOWER_BIN_VARIABLE} to that venv's bin)"
        )
    return Path(found).parent


def flower_environment(home: Path | None = None) -> dict[str, str]:
    """Return the environment of a Flower process: telemetry off, Flower's commands first."""
    env = dict(os.environ)
    env.update(NO_TELEMETRY)
    env["PATH"] = f"{flower_bin()}{os.pathsep}{env.get('PATH', '')}"
    if home is not None:
        env["FLWR_HOME"] = str(home)
    return env


def flower_command(name: str) -> str:
    """Return the path of one of Flower's commands."""
    return str(flower_bin() / name)


def free_port() -> int:
    """Find a TCP port on loopback that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    """Wait until ``port`` accepts connections, or fail saying what did not start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EngineError(f"{what} stopped while starting (exit code {process.returncode})")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise EngineError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def start_superlink(
    port: int, home: Path, log: Path, *, timeout: float = 60.0
) -> subprocess.Popen[bytes]:
    """Start a SuperLink on loopback; return once its API (Fleet, Control, Runtime) listens."""
    command = [
        flower_command("flower-superlink"),
        "--insecure",
        "--host=127.0.0.1",
        f"--port={port}",
        "--disable-runtime-dependency-installation",
    ]
    with log.open("ab") as out:
        # A session of its own: stopping it stops the ServerApp processes it started too.
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=flower_environment(home),
            start_new_session=True,
        )
    try:
        wait_for_port(port, process, "the SuperLink", timeout)
    except EngineError:
        stop(process)
        raise
    return process


def supernode_command(data: str, superlink: str, table: str | None = None) -> list[str]:
    """Return the command of one site: a SuperNode whose ClientApp reads ``data`` (``table``)."""
    for value in (data, table or ""):
        if '"' in value or "\\" in value:
            raise InputError(f"the site's data may not contain a quote or backslash: {value}")
    return [
        flower_command("flower-supernode"),
        "--insecure",
        f"--superlink={superlink}",
        f'--node-config=data="{data}" table="{table or ""}"',
        "--host=127.0.0.1",
        f"--port={free_port()}",
    ]


def submit_run(app: Path, home: Path, overrides: Path, log: Path, *, timeout: float) -> None:
    """Submit the Flower app as a run on the SuperLink and stream its logs until it ends."""
    command = [
        flower_command("flwr"),
        "run",
        str(app),
        "ethica",
        f"--run-config={overrides}",
        "--stream",
    ]
    with log.open("ab") as out:
        try:
            subprocess.run(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=flower_environment(home),
                timeout=timeout,
                check=True,
            )
        except subprocess.TimeoutExpired:
            raise EngineError(
                f"the federated run did not finish within {timeout:.0f} s; are all sites "
                f"running? (log: {log})"
            ) from None
        except subprocess.CalledProcessError as error:
            raise EngineError(
                f"flwr run failed with exit code {error.returncode} (log: {log})"
            ) from None


def write_flower_home(home: Path, port: int) -> None:
    """Write a Flower configuration naming the SuperLink on ``port`` as connection 'ethica'."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        "[superlink]\n"
        'default = "ethica"\n\n'
        "[superlink.ethica]\n"
        f'address = "127.0.0.1:{port}"\n'
        "insecure = true\n",
        encoding="utf-8",
    )


def write_app(folder: Path, app: str) -> Path:
    """Write a Flower app folder (a ``pyproject.toml``: the code is ethica's, installed)."""
    server, client = APPS[app]
    text = APP_PYPROJECT.format(app=app, module=server)
    text = text.replace(f"{server}:client_app", f"{client}:client_app")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(text, encoding="utf-8")
    return folder


def stop(process: subprocess.Popen[bytes], *, grace: float = 10.0, group: bool = False) -> None:
    """Stop a process ethica started (with ``group``, the session it leads): politely, then hard."""
    if process.poll() is None:
        _signal(process, signal.SIGTERM, group)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL, group)
            process.wait()
    if group:
        # Whatever the leader started and left behind goes with it.
        _signal(process, signal.SIGKILL, group)


def _signal(process: subprocess.Popen[bytes], number: int, group: bool) -> None:
    try:
        if group:
            os.killpg(process.pid, number)
        else:
            process.send_signal(number)
    except ProcessLookupError:
        pass
