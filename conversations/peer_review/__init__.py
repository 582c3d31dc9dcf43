"""The peer review stage: a Member's submitted data reviewed by peers, KPI by KPI, in chat."""
