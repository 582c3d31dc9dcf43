"""The pure rules of the PMM over records and the catalog: no storage, no rendering, no Telegram."""
