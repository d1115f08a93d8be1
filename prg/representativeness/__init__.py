"""The representativeness check and recruitment targets."""
