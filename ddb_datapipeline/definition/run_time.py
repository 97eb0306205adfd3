"""The value a run gives the date expressions this project writes into field values, as Data Pipeline
evaluates them: ``#{@scheduledStartTime}`` and ``#{format(<date>, '<Joda pattern>')}`` where ``<date>``
is ``@scheduledStartTime`` moved by ``minus``/``plus`` ``Minutes|Hours|Days|Weeks|Months`` (AWS Data
Pipeline Developer Guide, "Date and Time Functions"; DateTime values are UTC).

It lets the tests read a window the way a run will (across midnight, a month's end, a sequence of runs)
instead of comparing expression text, and refuses any other expression rather than guessing it.
"""
from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

_SHIFT = re.compile(r"^(minus|plus)(Minutes|Hours|Days|Weeks|Months)\((.+),\s*(\d+)\)$")
_FORMAT = re.compile(r"^format\((.+),\s*'([^']*)'\)$")
_EXPRESSION = re.compile(r"#\{([^{}]*)\}")  # the bodies this project writes hold no braces
# Joda pattern letters this project uses, longest first; text in single quotes is literal.
_JODA = (("YYYY", "%Y"), ("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"))
_UNITS = {"Minutes": "minutes", "Hours": "hours", "Days": "days", "Weeks": "weeks"}


class UnknownExpression(ValueError):
    """An expression outside the forms this module evaluates."""


def add_months(moment: datetime, months: int) -> datetime:
    """Joda's plusMonths: the same day of the month, or the month's last day when it has fewer."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def date_of(expression: str, scheduled_start: datetime) -> datetime:
    """``@scheduledStartTime``, or a shift of a date expression by a whole number of units."""
    expression = expression.strip()
    if expression == "@scheduledStartTime":
        return scheduled_start
    match = _SHIFT.match(expression)
    if match is None:
        raise UnknownExpression(f"'{expression}' is not @scheduledStartTime or a minus/plus of it")
    sign, unit, inner, amount = match.group(1), match.group(2), match.group(3), int(match.group(4))
    moment = date_of(inner, scheduled_start)
    count = amount if sign == "plus" else -amount
    if unit == "Months":
        return add_months(moment, count)
    return moment + timedelta(**{_UNITS[unit]: count})


def joda_format(moment: datetime, pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "'":
            end = pattern.index("'", i + 1)
            out.append(pattern[i + 1:end])
            i = end + 1
            continue
        for letters, directive in _JODA:
            if pattern.startswith(letters, i):
                out.append(moment.strftime(directive))
                i += len(letters)
                break
        else:
            if pattern[i].isalpha():
                raise UnknownExpression(f"pattern letter '{pattern[i]}' of '{pattern}' is not one this project writes")
            out.append(pattern[i])
            i += 1
    return "".join(out)


def evaluate(body: str, scheduled_start: datetime) -> str:
    """The text one ``#{body}`` becomes for a run scheduled at ``scheduled_start``."""
    body = body.strip()
    match = _FORMAT.match(body)
    if match is not None:
        return joda_format(date_of(match.group(1), scheduled_start), match.group(2))
    if body == "@scheduledStartTime":
        return scheduled_start.strftime("%Y-%m-%dT%H:%M:%S")  # the service's DateTime form
    raise UnknownExpression(f"'#{{{body}}}' is not an expression this project writes")


def at_run(value: str, scheduled_start: datetime) -> str:
    """``value`` with each ``#{...}`` replaced by what it is for the run scheduled at ``scheduled_start``."""
    return _EXPRESSION.sub(lambda m: evaluate(m.group(1), scheduled_start), value)
