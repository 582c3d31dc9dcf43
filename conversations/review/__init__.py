"""Browsing the KPIs, progress, review and submission."""
