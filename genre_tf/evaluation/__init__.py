"""Song-level evaluation: frame/crop votes, per-class metrics, reports on disk."""
