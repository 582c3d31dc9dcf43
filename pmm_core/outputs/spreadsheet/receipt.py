"""The receipt of a submission: the template's workbook, read-only, with the results, the
blanks and their reasons, the submission time and the SHA-256 digest of the submitted data.

The digest is recomputable by anyone holding the data (docs/spreadsheet.md): SHA-256, in
lower-case hex, of the UTF-8 bytes of the RFC 8785 (JSON Canonicalization Scheme) form of

    {"states": {"<KPI id>": {"comment": <text or null>, "reason": <code or null>, "status": "<state>"}, …},
     "values": {"<data point id or items:<list id>>": "<stored value>", …}}

Every key is ASCII and every value a string or null, so Python's
``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` gives exactly
the RFC 8785 form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from pmm_core.catalog.members import Member
from pmm_core.catalog.models import Catalog
from pmm_core.domain.records import Cycle, KpiStatus
from pmm_core.outputs.i18n import Lang
from pmm_core.outputs.spreadsheet.template import ReceiptInfo, write_workbook


def canonical_submission(values: Mapping[str, str], states: Mapping[str, KpiStatus]) -> bytes:
    """The submitted data in RFC 8785 canonical JSON (the bytes the digest is taken over)."""
    document = {
        "values": dict(values),
        "states": {
            kpi: {"status": str(state.status), "reason": state.reason, "comment": state.comment}
            for kpi, state in states.items()
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def submission_digest(values: Mapping[str, str], states: Mapping[str, KpiStatus]) -> str:
    """SHA-256 (hex) of the canonical form of the submitted answers and KPI states."""
    return hashlib.sha256(canonical_submission(values, states)).hexdigest()


def build_receipt(
    catalog: Catalog,
    member: Member,
    cycle: Cycle,
    values: Mapping[str, str],
    states: Mapping[str, KpiStatus],
    submitted_at: str,
    L: Lang,
) -> bytes:
    """The read-only workbook sent to the NCPs after /submit (`submitted_at`: ISO 8601)."""
    receipt = ReceiptInfo(submitted_at=submitted_at, digest=submission_digest(values, states))
    return write_workbook(catalog, member, cycle, values, states, L, receipt)
