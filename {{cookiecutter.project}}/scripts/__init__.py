"""Developer scripts: packaging, benchmarks."""
