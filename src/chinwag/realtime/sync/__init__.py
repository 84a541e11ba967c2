"""Sync documents, maps and lists as views of the chat tables, with replayable events."""
