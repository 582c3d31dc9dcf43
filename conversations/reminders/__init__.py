"""Reminders before the deadline (sent by ``bot.scheduler``, listed by /reminders)."""
