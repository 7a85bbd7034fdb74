"""Identifiers: node codes, organization credit codes, resource codes, node-qualified ids.

Identifiers travel unchanged across federation: an organization is ``<node>:<uscc>``
and a resource is ``<node>:<uscc>:<code>``.
"""

from __future__ import annotations

import re

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc as stdnum_uscc

from hutong.core.errors import Invalid

NODE_CODE = re.compile(r"^[a-z]{2,8}(\.[a-z0-9]{2,16}){0,3}$")
# 资源代码: classification digits (类/项/目/细目), a dash, a sequence number.
RESOURCE_CODE = re.compile(r"^[0-9]{1,12}-[0-9]{3,6}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def check_node_code(code: str) -> str:
    """Return the node code if valid; raise Invalid naming the reason."""
    if not NODE_CODE.match(code or ""):
        raise Invalid(
            "node code must be lower-case letters, dotted by level (e.g. sh, sh.pudong)",
            field="node",
            value=code,
        )
    return code


def check_uscc(code: str, *, field: str = "uscc") -> str:
    """Validate a unified social credit code (GB 32100) and return it compact, upper-case.

    Raises Invalid with the reason python-stdnum gives.
    """
    raw = (code or "").strip()
    try:
        return str(stdnum_uscc.validate(raw))
    except stdnum_exceptions.InvalidLength:
        reason = f"a unified social credit code has 18 characters, got {len(raw)}"
    except stdnum_exceptions.InvalidFormat:
        reason = "a unified social credit code uses 0-9 and A-Y without I, O, Z, S, V"
    except stdnum_exceptions.InvalidChecksum:
        reason = "the check character of the unified social credit code does not match"
    except stdnum_exceptions.InvalidComponent:
        reason = "the registration department or organization type is not valid"
    except stdnum_exceptions.ValidationError as exc:  # pragma: no cover - future stdnum errors
        reason = str(exc)
    raise Invalid(reason, field=field, value=raw)


def check_resource_code(code: str) -> str:
    """Validate a resource code: classification digits, dash, sequence (e.g. 101001-00001)."""
    if not RESOURCE_CODE.match(code or ""):
        raise Invalid(
            "resource code is classification digits, a dash and a 3-6 digit sequence "
            "(e.g. 101001-00001)",
            field="code",
            value=code,
        )
    return code


def org_id(node: str, uscc: str) -> str:
    """Node-qualified organization identifier ``node:uscc``."""
    return f"{node}:{uscc}"


def resource_id(node: str, uscc: str, code: str) -> str:
    """Node-qualified resource identifier ``node:uscc:code``."""
    return f"{node}:{uscc}:{code}"


def split_resource_id(rid: str) -> tuple[str, str, str]:
    """Split ``node:uscc:code``; raise Invalid if it has another shape."""
    parts = (rid or "").split(":")
    if len(parts) != 3:
        raise Invalid("a resource id has the form node:uscc:code", field="resource", value=rid)
    node, uscc, code = parts
    check_node_code(node)
    check_uscc(uscc, field="resource")
    check_resource_code(code)
    return node, uscc, code
