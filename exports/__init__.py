"""Files the product emits (Excel tools, reports, returns)."""
