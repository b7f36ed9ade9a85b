"""Purposes, consent and minimization: which data may reach a model, and why the rest did not.

Also the vocabulary of data uses and categories (the Fides taxonomy) and redaction of personal
data from free text, and differentially private synthetic decision logs (OpenDP MST/AIM; loaded on
first use, as they need pandas and the ``dp`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethica._lazy import lazy_attributes
from ethica.privacy._consent import (
    GPC_DATA_USES,
    ConsentState,
    Notice,
    NoticeKind,
    Objection,
    ObjectionKind,
    Preference,
    PreferenceSource,
    PreferenceStatus,
    evaluate,
    global_privacy_control,
    governing_notice,
)
from ethica.privacy._minimize import Minimized, Withheld, minimize
from ethica.privacy._redact import (
    BUILTIN_KINDS,
    BuiltinKind,
    Found,
    Redacted,
    de_tax_id_valid,
    find_personal_data,
    iban_valid,
    insee_valid,
    luhn_valid,
    redact,
)
from ethica.privacy._taxonomy import (
    Taxonomy,
    TaxonomyEntry,
    UnknownKeyError,
    category_covers,
    check_spec,
    data_category,
    data_use,
    default_taxonomy,
    is_known_category,
    is_known_subject,
    is_known_use,
    use_covers,
)

if TYPE_CHECKING:
    from ethica.privacy._synthesize import (
        DEFAULT_MAX_EPSILON,
        EpsilonCeilingError,
        Synthesis,
        check_budget,
        synthesize,
    )
    from ethica.privacy._synthetic_utility import UtilityReport, marginal_errors, utility_report

_LOADED_ON_USE = {
    "DEFAULT_MAX_EPSILON": "_synthesize",
    "EpsilonCeilingError": "_synthesize",
    "Synthesis": "_synthesize",
    "check_budget": "_synthesize",
    "synthesize": "_synthesize",
    "UtilityReport": "_synthetic_utility",
    "marginal_errors": "_synthetic_utility",
    "utility_report": "_synthetic_utility",
}

__all__ = [
    "DEFAULT_MAX_EPSILON",
    "EpsilonCeilingError",
    "Synthesis",
    "UtilityReport",
    "check_budget",
    "marginal_errors",
    "synthesize",
    "utility_report",
    "BUILTIN_KINDS",
    "GPC_DATA_USES",
    "BuiltinKind",
    "ConsentState",
    "Found",
    "Minimized",
    "Notice",
    "NoticeKind",
    "Objection",
    "ObjectionKind",
    "Preference",
    "PreferenceSource",
    "PreferenceStatus",
    "Redacted",
    "Taxonomy",
    "TaxonomyEntry",
    "UnknownKeyError",
    "Withheld",
    "category_covers",
    "check_spec",
    "data_category",
    "data_use",
    "de_tax_id_valid",
    "default_taxonomy",
    "evaluate",
    "find_personal_data",
    "global_privacy_control",
    "governing_notice",
    "iban_valid",
    "insee_valid",
    "is_known_category",
    "is_known_subject",
    "is_known_use",
    "luhn_valid",
    "minimize",
    "redact",
    "use_covers",
]


__getattr__ = lazy_attributes("ethica.privacy", _LOADED_ON_USE, globals(), __all__)[0]
