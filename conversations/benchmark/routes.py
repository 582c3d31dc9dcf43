"""The router of publishing and benchmarks (its handlers register on it in ``publish`` and ``ncp``)."""

from __future__ import annotations

from conversations.kit.dispatch import Router

router = Router()
