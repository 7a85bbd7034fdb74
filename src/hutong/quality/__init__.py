"""质量监督: quality rules, the one-pass evaluator, the ingest gate, scores and reports."""
