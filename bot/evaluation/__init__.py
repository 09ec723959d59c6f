"""Blind evaluation of the assistant: frozen test sets, near-duplicate
exclusion, scores, the quality gate and the report (docs/evaluation.md)."""

from bot.evaluation.run import evaluate

__all__ = ["evaluate"]
