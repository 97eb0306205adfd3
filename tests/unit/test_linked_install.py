"""make setup's installs as hard links to one prepared per machine (local_deploy/linked_install.py), on a small build
that makes what a virtualenv has: a script naming its own directory, a module, its bytecode, a symbolic link."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

from local_deploy import linked_install
from local_deploy.linked_install import MANIFEST, Request, install, link_tree, main

ROOT = Path(__file__).resolve().parents[2]

BUILD = r"""
import os, pathlib, sys
root = pathlib.Path(".venv").absolute()
(root / "bin").mkdir(parents=True)
(root / "bin" / "tool").write_text(f"#!{root}/bin/python\n")
os.chmod(root / "bin" / "tool", 0o751)
(root / "lib" / "__pycache__").mkdir(parents=True)
(root / "lib" / "mod.py").write_text("X = 1\n")
(root / "lib" / "__pycache__" / "mod.pyc").write_bytes(b"\0" + str(root).encode())
os.symlink("lib", root / "lib64")
if len(sys.argv) > 1 and sys.argv[1] == "binary":
    (root / "bin" / "blob").write_bytes(b"\0" + str(root).encode())
if len(sys.argv) > 1 and sys.argv[1] == "absolute-link":
    os.symlink(root / "lib", root / "lib32")
if len(sys.argv) > 1 and sys.argv[1] == "fail":
    sys.exit(3)
builds = pathlib.Path(os.environ["PROJECT_DIR"]) / "builds"
builds.write_text((builds.read_text() if builds.exists() else "") + "x")
"""


def project(tmp_path: Path, name: str, requirements: str = "pkg==1\n") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "requirements.txt").write_text(requirements)
    return folder


def request(cache: Path, folder: Path, *args: str) -> Request:
    return Request(cache=cache, target=folder / ".venv", project=folder, build=(sys.executable, "-c", BUILD, *args),
                   key_files=(Path("requirements.txt"),), keys=("Python 3.11.2",))


def builds(folder: Path) -> int:
    return len((folder / "builds").read_text()) if (folder / "builds").exists() else 0


def test_a_second_clone_links_the_install_the_first_prepared(tmp_path: Path):
    cache, first, second = tmp_path / "cache", project(tmp_path, "a"), project(tmp_path, "b")
    prepared = install(request(cache, first))
    assert install(request(cache, second)) == prepared
    assert (builds(first), builds(second)) == (1, 0)
    module = (second / ".venv/lib/mod.py").stat()
    assert module.st_ino == (prepared / ".venv/lib/mod.py").stat().st_ino == (first / ".venv/lib/mod.py").stat().st_ino
    assert (second / ".venv/lib/__pycache__/mod.pyc").stat().st_ino == (prepared / ".venv/lib/__pycache__/mod.pyc").stat().st_ino
    assert os.readlink(second / ".venv/lib64") == "lib"


def test_a_file_naming_the_build_directory_gets_the_clone_s_own_path_and_stays_its_own(tmp_path: Path):
    cache, first, second = tmp_path / "cache", project(tmp_path, "a"), project(tmp_path, "b")
    install(request(cache, first))
    prepared = install(request(cache, second))
    tool = second / ".venv/bin/tool"
    assert tool.read_text() == f"#!{second}/.venv/bin/python\n"
    assert (first / ".venv/bin/tool").read_text() == f"#!{first}/.venv/bin/python\n"
    assert tool.stat().st_nlink == 1 and tool.stat().st_mode & 0o777 == 0o751
    assert str(prepared) not in (prepared / ".venv/bin/tool").read_text()  # it names the staging it was built in


def test_the_same_inputs_in_another_checkout_give_the_same_key_and_any_changed_input_another(tmp_path: Path):
    cache, first, second = tmp_path / "cache", project(tmp_path, "a"), project(tmp_path, "b")
    base = request(cache, first)
    assert request(cache, second).key() == base.key()
    (second / "requirements.txt").write_text("pkg==2\n")
    changed = [
        request(cache, second),
        request(cache, first, "another"),
        Request(cache=cache, target=first / ".venv", project=first, build=base.build, key_files=base.key_files, keys=("Python 3.12",)),
        Request(cache=cache, target=first / "node_modules", project=first, build=base.build, key_files=base.key_files, keys=base.keys),
    ]
    assert len({base.key(), *(r.key() for r in changed)}) == 5


def test_changed_requirements_prepare_another_install_and_keep_the_first(tmp_path: Path):
    cache, folder = tmp_path / "cache", project(tmp_path, "a")
    first = install(request(cache, folder))
    (folder / "requirements.txt").write_text("pkg==2\n")
    second = install(request(cache, folder))
    assert first != second and builds(folder) == 2
    assert (first / MANIFEST).is_file() and (second / MANIFEST).is_file()


def test_an_install_is_replaced_whole(tmp_path: Path):
    cache, folder = tmp_path / "cache", project(tmp_path, "a")
    (folder / ".venv").mkdir()
    (folder / ".venv/left-over").write_text("from an older install")
    install(request(cache, folder))
    assert not (folder / ".venv/left-over").exists() and (folder / ".venv/lib/mod.py").is_file()
    assert sorted(p.name for p in folder.iterdir()) == [".venv", "builds", "requirements.txt"]


def test_a_failed_build_leaves_the_install_and_the_cache_as_they_were(tmp_path: Path, monkeypatch, capsys):
    cache, folder = tmp_path / "cache", project(tmp_path, "a")
    install(request(cache, folder))
    before = sorted(p.name for p in cache.iterdir())
    (folder / "requirements.txt").write_text("pkg==2\n")
    monkeypatch.chdir(folder)
    code = main(["--cache", str(cache), "--into", ".venv", "--key-file", "requirements.txt", "--", sys.executable, "-c", BUILD, "fail"])
    assert code == 3
    assert capsys.readouterr().err == f"linked_install: building .venv failed (exit 3); {folder}/.venv is unchanged\n"
    assert sorted(p.name for p in cache.iterdir()) == before
    assert (folder / ".venv/bin/tool").read_text() == f"#!{folder}/.venv/bin/python\n"


def test_a_binary_file_naming_the_build_directory_stops_the_build(tmp_path: Path, monkeypatch, capsys):
    cache, folder = tmp_path / "cache", project(tmp_path, "a")
    monkeypatch.chdir(folder)
    code = main(["--cache", str(cache), "--into", ".venv", "--", sys.executable, "-c", BUILD, "binary"])
    error = capsys.readouterr().err
    assert code == 1 and error.count("\n") == 1
    assert error.startswith("linked_install: .venv: ") and "bin/blob: a binary file names the build directory" in error
    assert list(cache.iterdir()) == [] and not (folder / ".venv").exists()


def test_a_symbolic_link_into_the_build_directory_stops_the_build(tmp_path: Path, monkeypatch, capsys):
    cache, folder = tmp_path / "cache", project(tmp_path, "a")
    monkeypatch.chdir(folder)
    code = main(["--cache", str(cache), "--into", ".venv", "--", sys.executable, "-c", BUILD, "absolute-link"])
    error = capsys.readouterr().err
    assert code == 1 and error.count("\n") == 1 and "lib32: a symbolic link names the build directory" in error
    assert list(cache.iterdir()) == [] and not (folder / ".venv").exists()


def test_installs_no_clone_linked_for_30_days_and_killed_builds_are_removed_when_another_is_prepared(tmp_path: Path):
    cache, folder = tmp_path / "cache", project(tmp_path, "a")
    old = install(request(cache, folder))
    (folder / "requirements.txt").write_text("pkg==2\n")
    recent = install(request(cache, folder))
    day = 86400
    os.utime(old / MANIFEST, (time.time() - 31 * day,) * 2)
    os.utime(recent / MANIFEST, (time.time() - 29 * day,) * 2)
    killed, running = cache / "building-killed", cache / "building-running"
    killed.mkdir(), running.mkdir()
    os.utime(killed, (time.time() - 2 * day,) * 2)
    (folder / "requirements.txt").write_text("pkg==3\n")
    current = install(request(cache, folder))
    assert sorted(p.name for p in cache.iterdir()) == sorted([recent.name, current.name, running.name])


def test_linking_an_install_marks_it_used(tmp_path: Path):
    cache, folder = tmp_path / "cache", project(tmp_path, "a")
    prepared = install(request(cache, folder))
    os.utime(prepared / MANIFEST, (time.time() - 31 * 86400,) * 2)
    install(request(cache, project(tmp_path, "b")))
    assert time.time() - (prepared / MANIFEST).stat().st_mtime < 60


def test_a_cache_that_cannot_be_made_falls_back_to_the_project(tmp_path: Path):
    (tmp_path / "a-file").write_text("")
    folder = project(tmp_path, "a")
    prepared = install(request(tmp_path / "a-file" / "cache", folder))
    assert prepared.parent == folder / ".linked-installs" and (folder / ".venv/lib/mod.py").is_file()


def test_where_files_cannot_be_linked_they_are_copied_with_their_times(tmp_path: Path, monkeypatch):
    source = tmp_path / "source"
    (source / "lib").mkdir(parents=True)
    (source / "lib" / "mod.py").write_text("X = 1\n")
    os.utime(source / "lib" / "mod.py", (1_000_000_000, 1_000_000_000))
    os.symlink("lib", source / "lib64")

    def no_link(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(linked_install.os, "link", no_link)
    link_tree(source, tmp_path / "copy")
    copied = (tmp_path / "copy" / "lib" / "mod.py").stat()
    assert copied.st_nlink == 1 and copied.st_mtime == 1_000_000_000  # Python's bytecode check reads mtime and size
    assert os.readlink(tmp_path / "copy" / "lib64") == "lib"


def test_make_setup_links_both_installs_keyed_by_their_inputs():
    dry = subprocess.run(["make", "-n", "-B", "setup"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    venv = next(line for line in dry.splitlines() if "--into .venv" in line)
    node = next(line for line in dry.splitlines() if "--into node_modules" in line)
    assert "linked_install.py --cache " in venv and "linked_install.py --cache " in node
    assert "--key-file requirements.txt --key-file requirements-dev.txt" in venv
    assert "--key-file package.json --key-file package-lock.json --key-file .npmrc" in node


COMPILED_BUILD = r"""
import compileall, pathlib
package = pathlib.Path(".venv/lib/pkg")
package.mkdir(parents=True)
(package / "__init__.py").write_text("")
(package / "mod.py").write_text("def where():\n    raise RuntimeError('here')\n")
assert compileall.compile_dir(str(package), quiet=1)
"""

WHERE = """
import sys, traceback
sys.path.insert(0, sys.argv[1])
import pkg.mod
try:
    pkg.mod.where()
except RuntimeError:
    print(pkg.mod.where.__code__.co_filename)
    print(traceback.extract_tb(sys.exc_info()[2])[-1].filename)
"""


def test_a_clone_s_tracebacks_name_its_own_files_though_the_bytecode_was_compiled_in_the_prepared_install(tmp_path: Path):
    """Bytecode records the path it was compiled at (the staging directory); Python's loader replaces it with the path
    of the source it found, as long as the source is there."""
    folder = project(tmp_path, "a")
    install(Request(cache=tmp_path / "cache", target=folder / ".venv", project=folder, build=(sys.executable, "-c", COMPILED_BUILD)))
    lib = folder / ".venv" / "lib"
    (compiled,) = (lib / "pkg" / "__pycache__").glob("mod.*.pyc")
    assert compiled.stat().st_nlink == 2  # the prepared bytecode, linked: not compiled again
    run = subprocess.run([sys.executable, "-B", "-c", WHERE, str(lib)], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == [str(lib / "pkg" / "mod.py")] * 2
