"""The spreadsheet's interface texts (gettext msgids), translated at render time with a Lang."""

from __future__ import annotations

from pmm_core.catalog.models import DataType
from pmm_core.domain.answers import ErrorCode
from pmm_core.domain.text import N_

# ---- headers of a dimension sheet (by key; the hidden key column has none) -------------------------------------------------

HEADERS = {
    "kpi": N_("KPI"),
    "label": N_("Label"),
    "year": N_("Year"),
    "unit": N_("Unit"),
    "expected": N_("Expected answer"),
    "current": N_("Current value"),
    "value": N_("Your value"),
    "blank": N_("Leave the KPI blank: reason"),
    "comment": N_("Comment"),
}
RECEIPT_HEADERS = {
    **HEADERS,
    "current": N_("Result"),
    "value": N_("Submitted value"),
    "blank": N_("Left blank: reason"),
}

# The hints the chat shows with a question (same msgids).
EXPECTED = {
    DataType.COUNT: N_("a whole number"),
    DataType.AMOUNT: N_("an amount in {currency}"),
    DataType.MINUTES: N_("minutes, up to 2 decimals"),
    DataType.PERCENT: N_("a percentage from 0 to 100"),
    DataType.NUMBER: N_("a number, up to 2 decimals"),
    DataType.YES_NO: N_("yes or no"),
    DataType.SCALE: N_("one of the options"),
}
YES, NO = N_("Yes"), N_("No")
FROM_TOTALS = N_("computed from totals")
REFERENCE_ONE = N_("Uses “{label}”, given under {kpi}.")
REFERENCE_MANY = N_("Uses {n} figures given under {kpi}.")

# ---- the instructions sheet -------------------------------------------------------------------

INSTRUCTIONS = N_("Instructions")
RECEIPT = N_("Receipt")
TITLE = N_("WCO Performance Measurement Mechanism (PMM) — {member}, reference year {year}")
DEADLINE = N_("Deadline: {date}")
HOW_TO = (
    N_(
        "Each sheet holds one performance dimension (and the WCO tools questionnaire), one row per figure. Type your figures in the column “Your value”. The column “Current value” shows what you have already given; an empty cell keeps it."
    ),
    N_(
        "Type numbers as numbers, or as text written the way you write numbers (for example {example}). Percentages are from 0 to 100."
    ),
    N_("For yes/no questions and scales, choose an answer from the list in the cell."),
    N_(
        "To leave a KPI blank, choose one of the five reasons in the column “Leave the KPI blank: reason” on the KPI's own row (in bold), and explain in the column “Comment” if you wish."
    ),
    N_(
        "Some KPIs are defined over declarations or officers: their sheets take one row per item, and the KPI and its totals are computed from the list. You may instead type the totals on the dimension's sheet."
    ),
    N_(
        "Do not change the hidden first row and the hidden column of keys of each sheet: they tell the bot which figure each row holds. You may sort the rows, add columns and translate the labels."
    ),
    N_(
        "Send the file back to the bot in the chat: it shows what would change, and nothing is saved until you press Apply."
    ),
)
LISTS = N_("Lists")
BLANK_REASONS = N_("The five reasons for leaving a KPI blank")

# ---- the receipt sheet -----------------------------------------------------------------------

RECEIPT_TITLE = N_("Receipt of the submission")
SUBMITTED_AT = N_("Submitted on")
DIGEST = N_("SHA-256 digest of the submitted data")
DIGEST_HOW = N_(
    "The digest is the SHA-256 of the RFC 8785 (JSON canonicalization) form of the submitted answers and KPI states; the WCO Secretariat can recompute it from its copy of the data."
)
COUNT_RESULTS = N_("KPIs with a result")
COUNT_BLANK = N_("KPIs left blank")  # also the heading of their list
COUNT_OTHER = N_("KPIs without a result")

# ---- problems with one cell (short: they follow "sheet!cell: value — ") --------------------

CELL = {
    ErrorCode.EMPTY: N_("empty"),
    ErrorCode.NOT_A_NUMBER: N_("not a number"),
    ErrorCode.BAD_FORMAT: N_("not a number written the expected way, for example {example}"),
    ErrorCode.NOT_WHOLE: N_("a count must be a whole number"),
    ErrorCode.TOO_MANY_DECIMALS: N_("at most 2 decimals"),
    ErrorCode.PERCENT_OVER_100: N_("a percentage cannot be more than 100"),
    ErrorCode.TOO_LARGE: N_("larger than the maximum plausible value ({limit})"),
    ErrorCode.TOO_SMALL: N_("smaller than the minimum allowed value ({limit})"),
    ErrorCode.NOT_YES_NO: N_("answer yes or no"),
    ErrorCode.NOT_A_CHOICE: N_("not one of the options of the list"),
    ErrorCode.READS_AS_DECIMAL: N_(
        "a count must be a whole number, and in your number format this has decimals: for {whole}, type {plain}"
    ),
    ErrorCode.MARK_UNCLEAR: N_("a count must be a whole number, and this could be {whole} or {decimal}: type {plain}"),
    ErrorCode.BAD_MINUTES: N_("the minutes after the hours must be from 0 to 59"),
    "formula_no_value": N_(
        "a formula without a saved result: type the figure, or open and save the file in your spreadsheet program"
    ),
    "date_time": N_("a date or a time, not a number: type the figure as a number"),
    "time_over_a_day": N_(
        "in a cell formatted as a time, a spreadsheet reads {days} as {days} days: type the minutes in a cell formatted as a number, or the time as 2:30"
    ),
    "over_column": N_("more than “{other}” in the same row ({limit})"),
    "cell_error": N_("the cell shows an error"),
    "duplicate": N_("this key appears on more than one row (also {other}): keep one row"),
    "unknown_reason": N_("not one of the five reasons of the list"),
    "list_incomplete": N_("this row leaves “{column}” empty while other rows give it"),
    "total_differs": N_("the list on the sheet {sheet} gives {value}"),
    "unreadable": N_("could not be read"),
}
DATE_SHOWN = N_("a date ({date}), not a number: type the figure as a number")
TIME_SHOWN = N_("a time ({time}), not a number: type the figure as a number")
NEGATIVE = {
    DataType.COUNT: N_("a count cannot be negative"),
    DataType.AMOUNT: N_("an amount cannot be negative"),
    DataType.MINUTES: N_("a time cannot be negative"),
    DataType.PERCENT: N_("a percentage cannot be negative"),
    DataType.NUMBER: N_("this figure cannot be negative"),
}

# ---- files refused as a whole ---------------------------------------------------------------

FILE = {
    "too_large": N_("The file is larger than {limit} MB, the most a bot can download. Please send a smaller file."),
    "encrypted": N_(
        "The file is protected with a password, so it cannot be read. Please save it without a password and send it again."
    ),
    "old_excel": N_(
        "This is an Excel 97–2003 file (.xls). Please save it as an Excel workbook (.xlsx) and send it again."
    ),
    "not_xlsx": N_(
        "This file is not an Excel workbook (.xlsx). Please fill in the template you get with /template and send it back."
    ),
    "zip_bomb": N_(
        "The file would unpack to more than {limit} MB, so it was not opened. Please send the template with your figures only."
    ),
    "not_a_template": N_(
        "This workbook was not made with /template (its hidden sheet or its row of keys is missing). Please download the template with /template and copy your figures into it."
    ),
    "template_version": N_(
        "This template was made by another version of the bot. Please download a new one with /template."
    ),
    "wrong_member": N_("This template is for {file_member}, not for {member}. Please use the template of {member}."),
    "wrong_cycle": N_(
        "This template is for the reference year {file_year}, not {year}. Please download the template of the open cycle with /template."
    ),
    "too_many_rows": N_("The file has more than {limit} rows. Please send at most {limit} rows."),
    "too_many_cells": N_(
        "The file has more than {limit} cells, far more than a filled template, so it was not read. Please send the template with your figures only."
    ),
    "too_many_texts": N_(
        "The file holds more than {limit} different texts, far more than a filled template, so it was not read. Please send the template with your figures only."
    ),
    "too_much_text": N_(
        "The file holds more than {limit} characters of text, or a text too long for a cell, so it was not read. Please send the template with your figures only."
    ),
    "too_slow": N_(
        "Reading the file took more than {limit} seconds, so it was stopped and nothing was changed. Please send the template with your figures only."
    ),
    "too_heavy": N_(
        "The file needed more memory or time than the bot allows for one file, so it was stopped and nothing was changed. Please send the template with your figures only."
    ),
    "merged_cells": N_("The sheet {sheet} has merged cells ({cells}). Please unmerge them and send the file again."),
    "unknown_ids": N_(
        "Some rows have a key that is not a PMM figure ({cells}). Please do not edit the hidden first row and the hidden column of keys, or download a new template with /template."
    ),
}

# ---- the summary of an upload ---------------------------------------------------------------

SUMMARY_TITLE = N_("What this file would change for {member}, reference year {year}:")
NOTHING = N_("The file changes nothing.")
NEW = (N_("{n} new figure:"), N_("{n} new figures:"))
CHANGED = (N_("{n} changed figure:"), N_("{n} changed figures:"))
UNCHANGED = (N_("{n} figure unchanged."), N_("{n} figures unchanged."))
LIST_ROWS = (N_("{n} row"), N_("{n} rows"))
LIST_CHANGES = N_("Lists:")
BLANKS = (N_("{n} KPI left blank:"), N_("{n} KPIs left blank:"))
REOPENED = N_("These KPIs were left blank and get figures again:")
FORMULAS = N_("Read from the saved result of a formula: {cells}")
ERRORS = (N_("{n} error (not saved):"), N_("{n} errors (not saved):"))
COMPUTABLE = N_("KPIs that become computable:")
RECOMPUTED = N_("Results that change:")
MORE = N_("… and {n} more.")
LIST_REFUSED = N_(
    "The list “{list}” (sheet {sheet}, {rows}) is not applied: none of its rows counts until these are fixed:"
)
ROW = N_("row {row} ({item}): {problems}")
ROW_NO_ITEM = N_("row {row}: {problems}")
TIMES = N_("Minutes read from cells formatted as times: {cells}")
FROM_LIST = N_("from the list")
