"""Spreadsheets in chat: the template, a filled file read and applied, the receipt."""
