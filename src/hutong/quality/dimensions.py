"""GB/T 36344-2018 quality dimensions (数据质量评价指标) and the indicators rules map to."""

from __future__ import annotations

from enum import StrEnum


class Dimension(StrEnum):
    """质量维度."""

    conformity = "conformity"  # 规范性
    completeness = "completeness"  # 完整性
    accuracy = "accuracy"  # 准确性
    consistency = "consistency"  # 一致性
    timeliness = "timeliness"  # 时效性
    accessibility = "accessibility"  # 可访问性


class Indicator(StrEnum):
    """Sub-indicators of the dimensions (DB31/T 1523-2024 refines the same list)."""

    data_standard = "data_standard"  # 数据标准
    data_model = "data_model"  # 数据模型 (type/format/length constraints)
    business_rules = "business_rules"  # 业务规则
    reference_data = "reference_data"  # 权威参考数据
    element_completeness = "element_completeness"  # 数据元素完整性
    record_completeness = "record_completeness"  # 数据记录完整性
    content_correctness = "content_correctness"  # 数据内容正确性
    format_compliance = "format_compliance"  # 数据格式合规性
    duplicate_rate = "duplicate_rate"  # 数据重复率
    uniqueness = "uniqueness"  # 数据唯一性
    dirty_data_rate = "dirty_data_rate"  # 脏数据出现率
    objections = "objections"  # 已确认的异议 (counts against accuracy)
    same_data_consistency = "same_data_consistency"  # 相同数据一致性
    related_data_consistency = "related_data_consistency"  # 关联数据一致性
    period_correctness = "period_correctness"  # 基于时间段的正确性
    timely_update = "timely_update"  # 基于时间点的及时性
    time_order = "time_order"  # 时序性
    reachable = "reachable"  # 可访问
    usable = "usable"  # 可用


INDICATOR_DIMENSION: dict[Indicator, Dimension] = {
    Indicator.data_standard: Dimension.conformity,
    Indicator.data_model: Dimension.conformity,
    Indicator.business_rules: Dimension.conformity,
    Indicator.reference_data: Dimension.conformity,
    Indicator.element_completeness: Dimension.completeness,
    Indicator.record_completeness: Dimension.completeness,
    Indicator.content_correctness: Dimension.accuracy,
    Indicator.format_compliance: Dimension.accuracy,
    Indicator.duplicate_rate: Dimension.accuracy,
    Indicator.uniqueness: Dimension.accuracy,
    Indicator.dirty_data_rate: Dimension.accuracy,
    Indicator.objections: Dimension.accuracy,
    Indicator.same_data_consistency: Dimension.consistency,
    Indicator.related_data_consistency: Dimension.consistency,
    Indicator.period_correctness: Dimension.timeliness,
    Indicator.timely_update: Dimension.timeliness,
    Indicator.time_order: Dimension.timeliness,
    Indicator.reachable: Dimension.accessibility,
    Indicator.usable: Dimension.accessibility,
}

# The indicator a rule kind counts towards unless the rule names another one.
DEFAULT_INDICATOR: dict[str, Indicator] = {
    "not_null": Indicator.element_completeness,
    "unique": Indicator.uniqueness,
    "pattern": Indicator.format_compliance,
    "allowed_values": Indicator.reference_data,
    "range": Indicator.content_correctness,
    "length": Indicator.data_model,
    "type": Indicator.data_model,
    "check_digit": Indicator.content_correctness,
    "resident_id_consistency": Indicator.same_data_consistency,
    "field_compare": Indicator.same_data_consistency,
    "reference": Indicator.related_data_consistency,
    "timeliness": Indicator.timely_update,
    "row_count": Indicator.record_completeness,
    "custom_sql": Indicator.dirty_data_rate,
}

# Rows found by these indicators are the "A" of X = 1 - A/B: duplicates and dirty data.
FAILURE_COUNTED = frozenset({Indicator.duplicate_rate, Indicator.dirty_data_rate})
