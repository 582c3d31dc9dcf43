"""The Secretariat's broadcasts to NCPs."""
