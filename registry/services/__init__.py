"""Every change to the 住民基本台帳 goes through one of these functions (one per 異動), each in one transaction that
also writes the 異動 history, the change events (the hook for notices) and the 附票 update when the 本籍 is in the
ward. The actor is taken from the audit context (common.context), entered by the web request, task or command."""

from .corrections import apply_koseki_change, ex_officio_amendment, record_move_out_confirmation
from .entries import PersonData, birth, ex_officio_entry, move_in
from .households import change_household_head, merge_households, split_household
from .moves import move_within
from .removals import death, ex_officio_removal, move_out
from .results import ChangeResult

__all__ = [
    "ChangeResult",
    "PersonData",
    "apply_koseki_change",
    "birth",
    "change_household_head",
    "death",
    "ex_officio_amendment",
    "ex_officio_entry",
    "ex_officio_removal",
    "merge_households",
    "move_in",
    "move_out",
    "move_within",
    "record_move_out_confirmation",
    "split_household",
]
