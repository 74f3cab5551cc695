"""Field types for what clients send, shared by the domain models: each states in its JSON schema the rule
it enforces, so the OpenAPI document and the validation agree.

- ``WholeInt``: an integer; a whole float (``60.0``, which JSON Schema counts as an integer) is taken as
  that integer; booleans, text and fractions are refused (a boolean is not a number, "10" is not 10).
- ``Name`` / ``SegmentName``: the name rule of :mod:`upstat.names`.
- ``Text``: one or more lines of text without control characters (tabs and newlines refused too).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict

from upstat.names import NAME_PATTERN, SEGMENT_PATTERN, name_problem


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _named(path_segment: bool) -> Any:
    def check(value: str) -> str:
        problem = name_problem(value, path_segment=path_segment)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


WholeInt = Annotated[int, BeforeValidator(_whole), Strict()]
StrictStr = Annotated[str, Strict()]
StrictBool = Annotated[bool, Strict()]


# Patterns go into the JSON schema only (json_schema_extra): the validators below enforce the same rules
# with messages that say which rule failed, where pydantic would print the pattern.
def name_type(max_length: int = 200, *, segment: bool = False) -> Any:
    """A name of at most ``max_length`` characters (``segment``: also no '/'). The length is checked
    before the rule, so its message speaks of characters."""
    regex = SEGMENT_PATTERN if segment else NAME_PATTERN
    limits = Field(min_length=1, max_length=max_length, json_schema_extra={"pattern": regex})
    return Annotated[str, Strict(), limits, _named(segment)]


Name = name_type()
SegmentName = name_type(100, segment=True)
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def _text(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


Text = Annotated[str, Strict(), Field(json_schema_extra={"pattern": TEXT_PATTERN}), AfterValidator(_text)]


def pattern(regex: str) -> Any:
    """A pattern stated in the JSON schema, enforced by the field's own validator."""
    return Field(json_schema_extra={"pattern": regex})
