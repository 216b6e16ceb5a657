"""The shadowmap collector: enrols agents, ingests their reports, serves the API and pages.

Everything lives in the database; a process holds only its settings, so replicas can share
one PostgreSQL.
"""

from __future__ import annotations
