"""What a KPI means: explanations, the KPI search, the fallback for any other text."""
