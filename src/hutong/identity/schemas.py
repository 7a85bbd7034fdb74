"""Pydantic schemas of identity."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hutong.core.ids import NODE_CODE
from hutong.core.security import Role


class NodeRead(BaseModel):
    code: str
    level: str
    name: str
    name_en: str = ""
    public_key: str
    demo: bool = False


class NodeInit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(pattern=NODE_CODE.pattern)] = "sh"
    level: str = "provincial"
    name: str = "上海市公共数据共享平台"
    name_en: str = "Shanghai Public Data Sharing Platform"


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uscc: Annotated[str, Field(min_length=1, max_length=40)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    name_en: str = ""
    short_name: Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_\-]*$")] = ""
    description: str = ""


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    password: Annotated[str, Field(min_length=10, max_length=256)]
    display_name: str = ""
    organization: str | None = None  # uscc or node:uscc
    roles: Annotated[list[Role], Field(min_length=1)]


class UserRead(BaseModel):
    id: str
    username: str
    display_name: str
    organization_id: str | None
    roles: list[str]
    created_at: dt.datetime


class AppCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    organization: str | None = None


class AppRead(BaseModel):
    id: str
    organization_id: str
    name: str
    key_prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class AppCreated(AppRead):
    api_key: str  # shown once


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(max_length=64)]
    password: Annotated[str, Field(max_length=256)]


class LoginResult(BaseModel):
    token: str
    expires_at: dt.datetime
    user: UserRead
