"""Ticket references a caller can write down when they are read aloud: eight digits, "4821-9135".

Random rather than sequential so a reference says nothing about volume and cannot be guessed from another;
the unique constraint on tickets.reference is the last word, so a clash is retried.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.models import Ticket


def new_reference() -> str:
    digits = f"{secrets.randbelow(10**8):08d}"
    return f"{digits[:4]}-{digits[4:]}"


def unused_reference(session: Session, tries: int = 20) -> str:
    for _ in range(tries):
        reference = new_reference()
        if session.scalar(select(Ticket.id).where(Ticket.reference == reference)) is None:
            return reference
    raise RuntimeError("no free ticket reference after many tries")


def normalise_reference(text: str) -> str:
    """Accept what people type: '48219135', '4821 9135', '4821-9135'."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return f"{digits[:4]}-{digits[4:]}" if len(digits) == 8 else text.strip()
