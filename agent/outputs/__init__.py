"""Output formats: each renders a report (or repo findings) to text."""
