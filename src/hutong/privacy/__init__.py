"""个人信息保护: detect, classify, mask and pseudonymize personal information."""

from hutong.privacy.classify import (
    PROPOSE_THRESHOLD,
    ColumnProposal,
    classify_column,
    classify_table,
    header_category,
    proposals_as_json,
)
from hutong.privacy.detect import CATEGORIES, ResidentIdInfo, detect, resident_id_info
from hutong.privacy.masking import mask, mask_array, normalize, pseudonymize

__all__ = [
    "CATEGORIES",
    "PROPOSE_THRESHOLD",
    "ColumnProposal",
    "ResidentIdInfo",
    "classify_column",
    "classify_table",
    "detect",
    "header_category",
    "mask",
    "mask_array",
    "normalize",
    "proposals_as_json",
    "pseudonymize",
    "resident_id_info",
]
