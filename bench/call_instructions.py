"""What a whole call costs the app, counted in CPU instructions: steady on a shared, noisy machine.

    .venv/bin/python bench/call_instructions.py                       # this tree, SQLite, ~10 minutes
    .venv/bin/python bench/call_instructions.py --tree /tmp/before    # another checkout, e.g. a git worktree

Timings of one request drift by a quarter from one minute to the next on the shared machines this runs on,
more than most single changes save. valgrind's callgrind counts the instructions a process executes
instead, which does not depend on what else the machine is doing. The same whole Korean call as
bench/webhooks.py (greeting, field, support type, callback, message with its recording, recording and
status callbacks, every request signed and checked) is placed in-process through Flask's test client,
and so are seven requests to a bare route returning a static TwiML string, in the same app. Each is run
at two numbers of calls under callgrind; the difference divided by the difference in calls is the cost
of one call, with the start-up (imports, migrations, demo data) taken out. What the webhooks cost beyond
the bare route is the app's own work. Needs valgrind (Debian's package); slow (~50x under callgrind).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

FEW, MANY = 5, 25  # calls per run; the cost of one call is the difference / (MANY - FEW)
_COLLECTED = re.compile(r"Collected : (\d+)")


def place_calls(tree: Path, kind: str, calls: int, bare: bool) -> None:
    """In the process callgrind watches: `calls` whole calls (or bare "calls" of seven requests), with the
    code and bench/webhooks.py of `tree`."""
    sys.path[:0] = [str(tree / "bench"), str(tree)]
    import webhooks as w

    with tempfile.TemporaryDirectory() as tmp, w.scratch_database(kind, Path(tmp)) as url:
        os.environ.update(DATABASE_URL=url, SECRET_KEY="bench")
        for name in ("PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN"):
            os.environ.pop(name, None)
        from flask import Response

        from ivr.wsgi import app

        app.add_url_rule(
            "/bare", "bare", lambda: Response(w.STATIC_TWIML, content_type="text/xml"), methods=["POST"]
        )
        client = app.test_client()
        callers = itertools.count()

        def post(url: str, params: dict[str, str]) -> bytes:
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            answer = client.post(path, data=params, headers={"X-Twilio-Signature": w.sign(url, params)})
            if answer.status_code != 200:
                raise RuntimeError(f"{path} answered {answer.status_code}")
            return answer.data

        def whole_call() -> None:
            call_sid = "CA" + uuid.uuid4().hex
            common = {"AccountSid": w.ACCOUNT_SID, "CallSid": call_sid, "To": "+827040001379",
                      "From": f"+82109{next(callers):07d}"}  # fmt: skip
            answer = post("http://localhost/ivr/voice", {**common, "CallStatus": "ringing"})
            for _step, reply in w.STEPS:
                match = w._ACTION.search(answer)
                assert match is not None, answer[:200]
                url = match.group(1).decode().replace("&amp;", "&")
                answer = post(url, {**common, "CallStatus": "in-progress", **(reply or {"Digits": "3"})})
            recording = {**w.RECORDING, "RecordingSid": "RE" + call_sid[2:], "RecordingStatus": "completed"}
            post("http://localhost/ivr/recording", {**common, **recording})
            post("http://localhost/ivr/status", {**common, "CallStatus": "completed", "CallDuration": "95"})

        def bare_call() -> None:
            for _ in range(7):
                post(
                    "http://localhost/bare", {"AccountSid": w.ACCOUNT_SID, "CallSid": "CA" + uuid.uuid4().hex}
                )

        for _ in range(calls):
            bare_call() if bare else whole_call()


def instructions(tree: Path, kind: str, calls: int, bare: bool) -> int:
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, str(Path(__file__).resolve()), "--place", str(tree), kind, str(calls),
        "bare" if bare else "call",
    ]  # fmt: skip
    run = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=True)
    return int(_COLLECTED.findall(run.stderr)[-1])


def per_call(tree: Path, kind: str, bare: bool) -> float:
    few, many = (instructions(tree, kind, n, bare) for n in (FEW, MANY))
    return (many - few) / (MANY - FEW)


def main() -> None:
    if sys.argv[1:2] == ["--place"]:  # inside callgrind
        tree, kind, calls, what = sys.argv[2:6]
        place_calls(Path(tree), kind, int(calls), what == "bare")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    tree = args.tree.resolve()
    call, bare = per_call(tree, args.database, bare=False), per_call(tree, args.database, bare=True)
    print(f"{tree} ({args.database}), millions of instructions per call of seven requests:")
    own = call - bare
    print(f"  whole call {call / 1e6:6.2f}   bare route x 7 {bare / 1e6:6.2f}   app's own {own / 1e6:6.2f}")


if __name__ == "__main__":
    main()
