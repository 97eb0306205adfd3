"""The check that stands between a value typed at activation and the code that uses it.

Why: ActivatePipeline's ``parameterValues`` replace the stored values, and Data Pipeline pastes a value into
every field that names it as text: into a shell ``command``, a ``hiveScript``, the comma-separated ``step`` of an
EmrActivity. Whoever may activate a pipeline would run code as its node role. So everything fixed per pipeline
is written into the objects as a literal (``export``, ``copy``, ``hive_copy``), and the one value an operator
must choose, a restore's export folder, reaches its step only after this guard held.

How: a ShellCommandActivity whose ``command`` is fixed text and which receives the value only as its
``scriptArgument``. The ShellCommandActivity page of the AWS Data Pipeline Developer Guide passes
``scriptArgument`` values to the command as its positional parameters (its example: command ``echo $1 $2`` with
the arguments "param1", "param2"), so the value is the word ``"$1"``, never shell text (inferred from that
example: the page does not show Task Runner's call). The command is POSIX ``case`` on ``"$#:$1"``: a quoted
word is neither split nor globbed, a ``case`` pattern matches the whole word, and the pattern is the literal
exports folder of this table (single-quoted) followed by ``YYYY-MM-dd-HH-mm-ss`` spelled with the digit class
``[0123456789]`` (a range such as ``[0-9]`` depends on the locale). Anything else, a second argument
included, exits 1: the activity fails, its ``onFail`` alarm fires, and with CASCADE the step that
``dependsOn`` it never starts. If Task Runner handed the value to ``$0`` instead, ``$1`` would be empty
and the guard fails closed.

``read_guard`` reads a command back, accepting only what ``folder_guard`` writes; the validator
(``injection_rules``), the permission model and the local runner use it, so none of them trusts another shape.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# The run folder an export writes (export.RUN_FOLDER: format(@scheduledStartTime, 'YYYY-MM-dd-HH-mm-ss')).
_DIGIT = "[0123456789]"
RUN_FOLDER_GLOB = "-".join([_DIGIT * 4, *[_DIGIT * 2] * 5])
RUN_FOLDER_REGEX = "[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}"
_UNQUOTABLE = "'\n"
_COMMAND = re.compile(
    r"case \"\$#:\$1\" in 1:'(?P<prefix>[^'\n]+)/'" + re.escape(RUN_FOLDER_GLOB)
    + r"\) ;; \*\) echo 'the value is not an export folder of this table' >&2; exit 1 ;; esac"
)


@dataclass(frozen=True)
class FolderGuard:
    """``prefix``: the exports folder of one table (``s3://<bucket>/exports/<table>``, no trailing slash)."""

    prefix: str

    def __post_init__(self) -> None:
        if not self.prefix or any(c in self.prefix for c in _UNQUOTABLE) or self.prefix.endswith("/"):
            raise ValueError(f"guard prefix {self.prefix!r}: expected a folder without a quote, a newline or a trailing slash")

    def command(self) -> str:
        return (f"case \"$#:$1\" in 1:'{self.prefix}/'{RUN_FOLDER_GLOB}) ;; "
                "*) echo 'the value is not an export folder of this table' >&2; exit 1 ;; esac")

    def admits(self, value: str) -> bool:
        """What the command admits, for readers that do not run a shell (ASCII digits only, whole value)."""
        return re.fullmatch(re.escape(self.prefix) + "/" + RUN_FOLDER_REGEX, value, re.ASCII) is not None

    def pattern(self) -> str:
        """The folder pattern in words, for messages and the review."""
        return f"{self.prefix}/YYYY-MM-dd-HH-mm-ss"


def read_guard(command: str) -> FolderGuard | None:
    """The guard a ShellCommandActivity's ``command`` is, or None when it is any other text."""
    found = _COMMAND.fullmatch(command)
    return FolderGuard(found["prefix"]) if found else None
