"""The KPI walk-through (graph in ``collect.mmd``)."""
