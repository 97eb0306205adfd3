"""Typed reads from the JSON context with errors that say where, what was found and what is allowed.

Every message is a single line starting with the dotted path of the value, so a user can find the
spot in ``cdk.json`` without reading code.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any


class ConfigError(ValueError):
    """A user's configuration mistake: printed as one line, never as a traceback."""


def refuse(path: str, value: Any, allowed: str, *, typed: bool = False) -> ConfigError:
    """The one-line error for a value found at ``path``, for checks that span more than one Section. ``typed``: the
    value is of the wrong JSON type, so the message says which type it is ('2' (a string) where a number belongs
    looks like a number once printed)."""
    shown = f"{_show(value)} ({json_type(value)})" if typed and not isinstance(value, (dict, list)) and value is not None else _show(value)
    return ConfigError(f"{path}: {shown} is not allowed; expected {allowed}")


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, as a user reads it: a string, a number, true or false..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__


def closest(value: str, options: Iterable[str]) -> str | None:
    """The option a mistyped ``value`` most likely meant (difflib's ratio of at least 0.75), or None."""
    found = difflib.get_close_matches(value, list(options), n=1, cutoff=0.75)
    return found[0] if found else None


def printable(text: str) -> str:
    """``text`` with line breaks and other control characters escaped, so a message stays one line. Every path of
    every field read goes through here (hundreds of thousands of calls in the robustness tests), so text that is
    printable already is returned without the walk over its characters."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


_MISSING = object()


class Section:
    """A JSON object at a known path; each key it hands out is remembered so that keys nobody asked
    for (usually typos) are reported by ``finish``."""

    def __init__(self, raw: Any, path: str):
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: expected an object, got {_show(raw)}")
        self.raw = raw
        self.path = path
        self._read: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.path}.{printable(key)}"

    def fail(self, key: str, value: Any, allowed: str, *, typed: bool = False) -> ConfigError:
        return refuse(self.where(key), value, allowed, typed=typed)

    def allow(self, *keys: str) -> None:
        """Marks optional keys as known when they were not read (absent, or handled by hand)."""
        self._read.update(keys)

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key] is not None

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        if key not in self.raw or self.raw[key] is None:
            if default is _MISSING:
                raise ConfigError(f"{self.where(key)}: missing; this field is required")
            return default
        return self.raw[key]

    def string(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        pattern: str | None = None,
        choices: Iterable[str] | None = None,
        allowed: str = "a string",
    ) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        options = list(choices) if choices is not None else None
        if options is not None:
            allowed = "one of " + ", ".join(options)
        if not isinstance(value, str):
            raise self.fail(key, value, allowed, typed=True)
        if options is not None and value not in options:
            raise self.fail(key, value, allowed)
        # re.ASCII: \d and \s mean ASCII digits and spaces only (full-width digits are not a date); fullmatch: a
        # pasted line break after the value is part of it, never stripped.
        if pattern is not None and not re.fullmatch(pattern, value, re.ASCII):
            raise self.fail(key, value, allowed)
        return value

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int, maximum: int) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        allowed = f"a whole number from {minimum} to {maximum}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, value, allowed, typed=True)
        if not isinstance(value, int) or not minimum <= value <= maximum:
            raise self.fail(key, value, allowed)
        return value

    def number(self, key: str, default: Any = _MISSING, *, minimum: float, maximum: float) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, value, f"a number from {minimum} to {maximum}", typed=True)
        if not minimum <= value <= maximum:
            raise self.fail(key, value, f"a number from {minimum} to {maximum}")
        return float(value)

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, value, "true or false", typed=True)
        return value

    def section(self, key: str) -> Section:
        """An optional nested object: absent means all its fields take their defaults."""
        return Section(self._get(key, {}), self.where(key))

    def items(self, key: str, default: Any = _MISSING) -> list[Any]:
        value = self._get(key, default)
        if not isinstance(value, list):
            raise self.fail(key, value, "a list")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.raw) - self._read)
        if unknown:
            known = ", ".join(sorted(self._read))
            meant = closest(str(unknown[0]), self._read)
            guess = f"did you mean {meant}? " if meant else ""
            raise ConfigError(f"{self.where(str(unknown[0]))}: unknown field; {guess}known fields here: {known}")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{printable(value)}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    return str(value)
