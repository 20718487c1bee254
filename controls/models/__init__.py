from controls.models.audit import (
    Answer,
    Audit,
    AuditCategory,
    AuditStatus,
    AuditSystem,
    AuditType,
    ReadinessSnapshot,
    SelfAssessmentAnswer,
)
from controls.models.deviation import Deviation
from controls.models.library import (
    ControlLibrary,
    ControlTemplate,
    ControlType,
    Frequency,
    FrequencyRule,
    Operation,
    PeriodUnit,
)
from controls.models.tenant import Control, ControlCriterion, ControlStatus, System

__all__ = [
    "Answer",
    "Audit",
    "AuditCategory",
    "AuditStatus",
    "AuditSystem",
    "AuditType",
    "Control",
    "ControlCriterion",
    "ControlLibrary",
    "ControlStatus",
    "ControlTemplate",
    "ControlType",
    "Deviation",
    "Frequency",
    "FrequencyRule",
    "Operation",
    "PeriodUnit",
    "ReadinessSnapshot",
    "SelfAssessmentAnswer",
    "System",
]
