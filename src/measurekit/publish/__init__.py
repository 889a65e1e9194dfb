"""Outputs: fielding forms, board pack files."""
