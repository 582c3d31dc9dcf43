"""First contact and the basics: /start with an invitation, /help, /language, /cancel."""
