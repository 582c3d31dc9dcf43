"""Secretariat administration: cycles, people, reminders."""
