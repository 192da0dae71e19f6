"""Neutral helpers every layer may use (bot, handlers, storage): the clock and the redactor.

Nothing here imports from bot/, handlers/ or storage/ (an import-linter contract checks it).
"""
