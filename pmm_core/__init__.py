"""pmm_core: the PMM domain — catalog, calculations, answer validation, progress, store.

No Telegram in here: the chat flows in ``conversations/`` stand on this package.
"""

from pmm_core.answers import AnswerError, ErrorCode, Valid, validate
from pmm_core.catalog import Catalog, CatalogError, DataPoint, DataType, Kpi, load_catalog
from pmm_core.members import Member, read_members
from pmm_core.progress import Snapshot, Status
from pmm_core.results import Computed, NotComputable, Reason, compute, rounded
from pmm_core.store import InviteProblem, KpiState, Store, StoreVersionError

__all__ = [
    "AnswerError",
    "Catalog",
    "CatalogError",
    "Computed",
    "DataPoint",
    "DataType",
    "ErrorCode",
    "InviteProblem",
    "Kpi",
    "KpiState",
    "Member",
    "NotComputable",
    "Reason",
    "Snapshot",
    "Status",
    "Store",
    "StoreVersionError",
    "Valid",
    "compute",
    "load_catalog",
    "read_members",
    "rounded",
    "validate",
]
