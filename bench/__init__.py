"""Benchmarks (``make bench``): each module measures one area and returns result rows."""
