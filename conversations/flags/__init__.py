"""The data checks: the Secretariat's review of flags and the questions NCPs get."""
