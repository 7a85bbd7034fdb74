"""Objections and corrections (异议与更正): file, flag, verify, correct, reach every recipient."""
