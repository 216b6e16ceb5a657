"""Tests of the collector (shadowmap.server), over real HTTP on loopback."""
