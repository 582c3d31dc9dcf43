"""Delegation: an NCP hands KPIs to colleagues who hold the data (/delegate, /contributors)."""
