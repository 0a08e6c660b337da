"""Benchmarks (`mlquiz bench`): each prints numbers against a target and lands in a JSON report."""
