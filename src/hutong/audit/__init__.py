"""审计: the tamper-evident audit log (Merkle tree, checkpoints, proofs)."""
