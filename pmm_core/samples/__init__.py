"""Sample data for the demo and the benchmarks (not the domain)."""
