"""What people read: labels and messages, exports, the report, charts and the spreadsheets."""
