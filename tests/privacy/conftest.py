"""Retention, erasure and masking: the ticket fixtures of tests/tickets."""

from tests.tickets.conftest import make_ticket, make_user  # noqa: F401  (fixtures)
