"""Domain errors, raised by services and mapped once to HTTP (RFC 9457) and pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Problem:
    """One named problem in an input: where (row, column/field) and why."""

    reason: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class HutongError(Exception):
    """Base of domain errors. ``status`` and ``type_slug`` map it to problem+json."""

    status = 500
    type_slug = "error"
    title = "Error"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        value: Any = None,
        problems: list[Problem] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.value = value
        self.problems = problems or []
        self.extra = extra or {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """RFC 9457 problem details."""
        body: dict[str, Any] = {
            "type": f"https://hutong.dev/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.field is not None:
            body["field"] = self.field
        if self.value is not None and not isinstance(self.value, bytes):
            text = str(self.value)
            body["value"] = text if len(text) <= 200 else text[:200] + "…"
        if self.problems:
            body["problems"] = [p.as_dict() for p in self.problems]
        body.update(self.extra)
        return body


class Invalid(HutongError):
    """The input is not acceptable; the detail names what and why."""

    status = 422
    type_slug = "invalid"
    title = "Invalid input"


class NotFound(HutongError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Forbidden(HutongError):
    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class Unauthorized(HutongError):
    status = 401
    type_slug = "unauthorized"
    title = "Authentication required"


class Conflict(HutongError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class TooLarge(HutongError):
    status = 413
    type_slug = "too-large"
    title = "Content too large"


@dataclass
class ProblemList:
    """Collects problems up to a bound, so a report names many but never all of a huge file."""

    limit: int = 100
    items: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(problem)

    def __bool__(self) -> bool:
        return self.total > 0
