"""``python3 local_deploy/linked_install.py --cache DIR --into TARGET [--key-file F ...] [--key TEXT ...] -- BUILD...``:
make setup's installs (``.venv``, ``node_modules``) as hard links to one install prepared per machine and per input.

Why: uv already installs each package file as a hard link to its cache, so a fresh clone's virtualenv costs little
disk; what every clone still paid for was the work around the links: a new interpreter environment, pip installing uv,
uv resolving, compiling the CDK's largest modules to bytecode, and npm ci (12.7 to 14.0 CPU-s a clone, measured
here, about a tenth of make test). Here that work is done once per distinct input (the requirement or lock files, the interpreter,
the build command itself), into ``DIR/<name>-<key>``, and a clone's install is a tree of hard links to it, bytecode
included (Python checks a cached module by its source's mtime and size, which a hard link shares).

What a clone owns does not change: its install is its own directory, deleted with it. Installing or removing a package
in it replaces links rather than writing into them (uv, pip and npm write new files), as with uv's own hard links
today; only a file edited in place would change for every clone, as it would in uv's cache.

The build command runs in an empty staging directory, with PROJECT_DIR naming the project, and makes a directory named
as TARGET there. A file whose text names the staging path (a virtualenv's scripts carry their interpreter's absolute
path) is listed at build time and written anew, with TARGET's path, into each clone instead of linked. A prepared
install appears whole (built in staging, renamed) or not at all; one that no clone has linked for 30 days is removed
when another is prepared. Where DIR cannot be written, the project's ``.linked-installs`` is used instead; where a
hard link cannot be made (another file system), files are copied with their times.

Standard library only: it runs before the virtualenv exists.
"""
from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FORMAT = "linked-install-1"
MANIFEST = "linked-install.json"  # written last in staging: a prepared install without it is not one
KEEP_DAYS = 30
STALE_BUILD_DAYS = 1  # a staging directory left by a build that was killed
PROJECT_FALLBACK = ".linked-installs"


class BuildFailed(Exception):
    """The build command failed; its own output already says why."""

    def __init__(self, target: Path, returncode: int) -> None:
        super().__init__(f"building {target.name} failed (exit {returncode}); {target} is unchanged")
        self.returncode = returncode


@dataclass(frozen=True)
class Request:
    """One install: where it goes, how it is built and what its build depends on."""

    cache: Path
    target: Path
    project: Path
    build: tuple[str, ...]
    key_files: tuple[Path, ...] = ()
    keys: tuple[str, ...] = ()

    def key(self) -> str:
        """Changes with anything the build's result depends on: the build command (which names the pinned tools),
        the key texts (interpreter and Node versions) and the key files' names and contents."""
        digest = hashlib.sha256(json.dumps([FORMAT, self.target.name, list(self.build), list(self.keys)]).encode())
        for path in self.key_files:
            digest.update(b"\0" + path.name.encode() + b"\0" + (self.project / path).read_bytes())
        return digest.hexdigest()[:24]

    @property
    def name(self) -> str:
        return f"{self.target.name.lstrip('.')}-{self.key()}"


def install(request: Request) -> Path:
    """Links ``request.target`` from the prepared install, preparing it first when this machine has none.
    Returns the prepared install's directory."""
    try:
        cache = _writable(request.cache)
    except OSError:
        cache = _writable(request.project / PROJECT_FALLBACK)
    prepared = cache / request.name
    if not (prepared / MANIFEST).is_file():
        _prepare(request, cache, prepared)
        _prune(cache, keep=prepared)
    os.utime(prepared / MANIFEST)  # last linked: what pruning goes by
    _link(prepared, request.target)
    return prepared


def _writable(cache: Path) -> Path:
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.access(cache, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "not writable", str(cache))
    return cache


def _prepare(request: Request, cache: Path, prepared: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix="building-", dir=cache))
    try:
        env = {**os.environ, "PROJECT_DIR": str(request.project)}
        returncode = subprocess.run(request.build, cwd=staging, env=env, check=False).returncode
        built = staging / request.target.name
        if returncode != 0 or not built.is_dir():
            raise BuildFailed(request.target, returncode or 1)
        manifest = {"format": FORMAT, "built_at": str(built), "relocate": _naming(built, str(built).encode())}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if prepared.exists() and not (prepared / MANIFEST).is_file():
            _remove(prepared)  # not a prepared install: what a failed removal left
        try:
            staging.rename(prepared)
        except OSError:
            if not (prepared / MANIFEST).is_file():  # not another clone's build finishing first
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _naming(root: Path, path: bytes) -> list[str]:
    """The files under ``root`` whose contents name ``path``, relative to it. Bytecode is left out: Python replaces a
    cached module's recorded file name with its source's path when it loads it. Any other binary naming the path
    cannot be rewritten safely, and a symbolic link to it would dangle in every clone, so the build stops."""
    found = []
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            file = Path(folder, name)
            if file.is_symlink() and path.decode() in os.readlink(file):
                raise ValueError(f"{file}: a symbolic link names the build directory {path.decode()}; it cannot be relocated")
        for name in files:
            file = Path(folder, name)
            if name.endswith(".pyc") or file.is_symlink():
                continue
            data = file.read_bytes()
            if path in data:
                if b"\0" in data:
                    raise ValueError(f"{file}: a binary file names the build directory {path.decode()}; it cannot be relocated")
                found.append(str(file.relative_to(root)))
    return sorted(found)


def _link(prepared: Path, target: Path) -> None:
    """Builds the links beside ``target`` and swaps them in, so a failure leaves the previous install as it was."""
    manifest = json.loads((prepared / MANIFEST).read_text(encoding="utf-8"))
    source = prepared / target.name
    fresh = target.with_name(target.name + ".linking")
    old = target.with_name(target.name + ".replaced")
    for leftover in (fresh, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    link_tree(source, fresh)
    old_path, new_path = manifest["built_at"].encode(), str(target.absolute()).encode()
    for relative in manifest["relocate"]:
        file = fresh / relative
        mode = file.stat().st_mode
        text = (source / relative).read_bytes().replace(old_path, new_path)
        file.unlink()  # a link to the prepared file: write a file of this install's own
        file.write_bytes(text)
        file.chmod(mode)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    if old.exists():
        shutil.rmtree(old)


def link_tree(source: Path, destination: Path) -> None:
    """A copy of ``source`` whose files are hard links and whose symbolic links are copied as they are; where a file
    cannot be linked (another file system), it is copied with its times. GNU ``cp -al`` would save about 0.3 CPU-s of
    user time a setup (alternated fresh-clone setups here: 3.6, 4.6, 5.3 CPU-s with it against 4.2, 4.8, 6.0 with this);
    nearly all of the rest is the kernel making the virtualenv's 5,300 folders, whichever does it."""
    shutil.copytree(source, destination, symlinks=True, copy_function=_link_or_copy)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _prune(cache: Path, *, keep: Path) -> None:
    """Removes prepared installs no clone has linked for KEEP_DAYS, and staging left by killed builds. A prepared
    install is renamed away before it is deleted, so no clone links a half-deleted one."""
    now = time.time()
    for entry in cache.iterdir():
        if entry == keep or not entry.is_dir():
            continue
        if entry.name.startswith("building-"):
            stale = now - entry.stat().st_mtime > STALE_BUILD_DAYS * 86400
        elif (entry / MANIFEST).is_file():
            stale = now - (entry / MANIFEST).stat().st_mtime > KEEP_DAYS * 86400
        else:
            continue
        if stale:
            _remove(entry)


def _remove(entry: Path) -> None:
    doomed = entry.with_name(f"building-removing-{entry.name}")
    try:
        entry.rename(doomed)
    except OSError:
        return  # another clone got there first
    shutil.rmtree(doomed, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="linked_install.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="the machine's directory of prepared installs")
    parser.add_argument("--into", type=Path, required=True, help="the install to make, e.g. .venv")
    parser.add_argument("--key-file", type=Path, action="append", default=[], help="a file the build depends on")
    parser.add_argument("--key", action="append", default=[], help="a text the build depends on (a tool's version)")
    parser.add_argument("build", nargs="+", help="the command that builds the install in its working directory")
    args = parser.parse_args(argv)
    project = Path.cwd()
    request = Request(cache=args.cache.absolute(), target=args.into.absolute(), project=project,
                      build=tuple(args.build), key_files=tuple(args.key_file), keys=tuple(args.key))
    try:
        install(request)
    except BuildFailed as failed:
        print(f"linked_install: {failed}", file=sys.stderr)
        return failed.returncode
    except (OSError, ValueError) as error:
        print(f"linked_install: {request.target.name}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
