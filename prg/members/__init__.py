"""The PRG register: members, their characteristics, consent records, import and data-protection operations."""
