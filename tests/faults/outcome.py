"""What became of each placed call, read back from the database, and the table printed per scenario.

A call is right when exactly one ticket carries its caller's number (every simulated caller has its own
number, so a second one is a duplicate), that ticket is complete whenever the caller was read a reference
(and it is the reference read), and every recording Twilio posted is in the database: on the call row, a
ticket or a ticket event, not only in the server's log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from callflows import prompts
from callflows.phones import speak_digits
from tests.faults.callers import PlacedCall

_TOLD_REFERENCE = prompts.TEXTS["reference"]["ko"].split("{reference}")[0]  # "접수번호는 "


@dataclass(frozen=True)
class TicketRow:
    reference: str
    incomplete: bool


@dataclass(frozen=True)
class CallRow:
    from_number: str | None
    step: str | None
    status: str | None
    flow_completed: bool


@dataclass
class CallOutcome:
    call: PlacedCall
    tickets: list[TicketRow]
    row: CallRow | None
    lost_recordings: set[str]  # posted by Twilio, held nowhere in the database
    logged_recordings: set[str]  # of those, the ones the server's log holds (caller data only in logs)
    in_server_log: bool = False

    @property
    def told_a_reference(self) -> bool:
        return any(line.startswith(_TOLD_REFERENCE) for line in self.call.result.heard)

    def told(self, ticket: TicketRow) -> bool:
        spoken = prompts.text("reference", "ko", reference=speak_digits(ticket.reference, "ko", slow=True))
        return spoken in self.call.result.heard

    @property
    def told_a_wrong_reference(self) -> bool:
        """Read a reference, but not the one of its complete ticket: the caller would quote a wrong one."""
        return self.told_a_reference and not any(self.told(t) and not t.incomplete for t in self.tickets)

    def problems(self) -> list[str]:
        found = []
        if not self.tickets:
            found.append("no ticket")
        if len(self.tickets) > 1:
            found.append(f"{len(self.tickets)} tickets: {', '.join(t.reference for t in self.tickets)}")
        if self.told_a_wrong_reference:
            found.append("read a reference that is not its complete ticket")
        if self.call.apologies > 1:
            found.append(f"heard the apology {self.call.apologies} times")
        if self.logged_recordings:
            found.append(f"{len(self.logged_recordings)} recording(s) only in the server's log")
        if self.lost_recordings - self.logged_recordings:
            found.append(f"{len(self.lost_recordings - self.logged_recordings)} recording(s) lost entirely")
        return found

    def last_seen(self) -> str:
        """Where the call was last seen: what the caller lived, the call row, the server's log."""
        result = self.call.result
        row = "no call row"
        if self.row:
            number = (
                "" if self.row.from_number == self.call.from_number else f" From {self.row.from_number!r},"
            )
            row = (
                f"row{number} at step {self.row.step}, status {self.row.status}, "
                f"flow completed {self.row.flow_completed}"
            )
        log = "; its CallSid is in the server's log" if self.in_server_log else ""
        return (
            f"{self.call.call_sid} ({self.call.from_number}): steps {','.join(result.steps) or '-'}, "
            f"ended by {result.ended_by or '?'}, last answered {self.call.last_answered()}; {row}{log}"
        )


@dataclass
class Table:
    scenario: str
    outcomes: list[CallOutcome] = field(default_factory=list)

    def count(self, predicate: Callable[[CallOutcome], bool]) -> int:
        return sum(1 for o in self.outcomes if predicate(o))

    @property
    def wrong(self) -> list[CallOutcome]:
        return [o for o in self.outcomes if o.problems()]

    def figures(self) -> dict[str, int]:
        return {
            "placed": len(self.outcomes),
            "filed": self.count(lambda o: len(o.tickets) == 1),
            "incomplete": self.count(lambda o: len(o.tickets) == 1 and o.tickets[0].incomplete),
            "missing": self.count(lambda o: not o.tickets),
            "duplicates": self.count(lambda o: len(o.tickets) > 1),
            "apologised": self.count(lambda o: o.call.apologies >= 1),
            "apologised 2+": self.count(lambda o: o.call.apologies > 1),
            "Twilio timeouts": sum(o.call.transport.timeouts for o in self.outcomes),
            "Twilio errors": sum(o.call.transport.errors for o in self.outcomes),
            "read a reference": self.count(lambda o: o.told_a_reference),
            "wrong reference": self.count(lambda o: o.told_a_wrong_reference),
            "recordings not in db": sum(len(o.lost_recordings) for o in self.outcomes),
            "of them only in log": sum(len(o.logged_recordings) for o in self.outcomes),
        }

    def render(self) -> str:
        figures = self.figures()
        widths = [max(len(name), 5) for name in figures]
        head = "  ".join(name.rjust(w) for name, w in zip(figures, widths, strict=True))
        values = "  ".join(str(v).rjust(w) for v, w in zip(figures.values(), widths, strict=True))
        lines = [f"--- {self.scenario}", head, values]
        lines += [f"  ! {', '.join(o.problems())}: {o.last_seen()}" for o in self.wrong]
        return "\n".join(lines)


def read_outcomes(
    database_url: str, placed: Iterable[PlacedCall], server_log: Path | None = None
) -> list[CallOutcome]:
    """Each placed call with its tickets, call row and any recording the database does not hold."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tickets: dict[str, list[TicketRow]] = {}
            for number, reference, incomplete in connection.execute(
                text("SELECT caller_number, reference, incomplete FROM tickets ORDER BY id")
            ):
                tickets.setdefault(number, []).append(TicketRow(reference, incomplete))
            rows = {
                sid: CallRow(number, step, status, completed)
                for sid, number, step, status, completed in connection.execute(
                    text("SELECT call_sid, from_number, step, status, flow_completed FROM calls")
                )
            }
            stored = {url for (url,) in connection.execute(text("SELECT recording_url FROM calls"))}
            stored |= {url for (url,) in connection.execute(text("SELECT recording_url FROM tickets"))}
            stored |= {
                detail.get("url")
                for (detail,) in connection.execute(
                    text("SELECT detail FROM ticket_events WHERE type = 'recording_added'")
                )
            }
    finally:
        engine.dispose()
    log = server_log.read_text(errors="replace") if server_log and server_log.exists() else ""
    return [
        CallOutcome(
            call=call,
            tickets=tickets.get(call.from_number, []),
            row=rows.get(call.call_sid),
            lost_recordings=call.recordings - stored,
            logged_recordings={url for url in call.recordings - stored if url in log},
            in_server_log=call.call_sid in log,
        )
        for call in placed
    ]
