"""Evaluations and benchmarks: this project next to the textbook LangChain pipeline."""
