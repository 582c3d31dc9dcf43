"""pmm_core: the PMM without Telegram, in layers.

- ``catalog``: the KPI catalog (models, loading, validation, its TOML data) and the WCO Members;
- ``domain``: pure rules over records — answers, formulas, results, progress, checks, flags,
  disclosure, analysis, and the actions that turn an intent into one change set;
- ``storage``: SQLite, its migrations and the :class:`~pmm_core.storage.store.Store`;
- ``outputs``: what people read — labels, messages, exports, the report, charts, spreadsheets;
- ``jobs`` (heavy reads for the worker process) and ``samples`` (synthetic data) on top.

``lint-imports`` (pyproject's ``[tool.importlinter]``) keeps these layers.
"""
