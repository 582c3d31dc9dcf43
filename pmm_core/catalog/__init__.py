"""The KPI catalog: its models, their loading and validation, the TOML data and the WCO Members."""
