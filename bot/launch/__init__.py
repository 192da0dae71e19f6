"""Launches: a date the load changes, and the conversation the bot brings before and after it."""
