"""JSON routes of objections."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["objections"])
