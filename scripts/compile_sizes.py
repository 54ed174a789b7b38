#!/usr/bin/env python3
"""Compile every standard-library program (its documented cost lines) and report the model's size.

    python scripts/compile_sizes.py                     # max_len 10 and 32, 200 random inputs each
    python scripts/compile_sizes.py --max-len 10 --random 1000 --timeout 300
    python scripts/compile_sizes.py --json              # machine-readable output

Each program runs in a subprocess of its own (a refusal, a crash or a timeout is one row).
For each: compile time, verification time (every input up to the verifier's exhaustive
length, then `--random` random inputs up to max_len), parameters stored, non-zero
parameters, hidden units (every MLP, the embedding MLP included), d_model, and the
verification's mismatches. The vocabulary of each program is the library test's
(tests/test_compile_library.py): a vocabulary of 4.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COST_LINE = re.compile(r"^#\s*cost of (?P<call>.+): layers=")


def library_calls() -> list[tuple[str, str]]:
    """(file, call) of every cost line of the standard library."""
    calls = []
    for path in sorted((ROOT / "stdlib").glob("*.rasp")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = COST_LINE.match(line)
            if match:
                calls.append((path.name, match["call"]))
    return calls


def vocabulary(call: str) -> list:
    """The library test's vocabulary for the call (tests/support.py, library_vocabulary)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from support import library_vocabulary

    return library_vocabulary(call)


def measure_one(file: str, call: str, max_len: int, random_inputs: int) -> dict:
    """Compile and verify one call in this process."""
    import numpy as np

    from rasp.api import Session
    from rasp.compiler.construct import compile_sop
    from rasp.compiler.verify import verify

    session = Session()
    if file != "rasplib.rasp":
        session.run(f'load "{(ROOT / "stdlib" / file).as_posix()}";')
    session.run(f"compiled_program = {call};")
    node = session["compiled_program"].node
    start = time.perf_counter()
    model = compile_sop(node, max_len=max_len, vocab=vocabulary(call), name=call)
    compiled = time.perf_counter() - start
    start = time.perf_counter()
    result = verify(model, node, random_inputs=random_inputs)
    verified = time.perf_counter() - start
    arrays = model.arrays().values()
    hidden = sum(model.d_mlp) + (model.mlp0.hidden if model.mlp0 is not None else 0)
    return {"file": file, "call": call, "max_len": max_len, "status": "ok", "compile_s": compiled,
            "verify_s": verified, "params": sum(int(a.size) for a in arrays),
            "nonzero": sum(int(np.count_nonzero(a)) for a in arrays), "hidden": hidden, "d_model": model.d_model,
            "checked": result.checked, "mismatches": result.mismatches,
            "attention_ok": result.attention_error <= model.attention_tolerance}


def measure(file: str, call: str, max_len: int, random_inputs: int, timeout: float) -> dict:
    """measure_one in a subprocess (with this checkout first on the path)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, str(Path(__file__).resolve()), "--one", file, call, "--max-len", str(max_len),
               "--random", str(random_inputs)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"file": file, "call": call, "max_len": max_len, "status": f"timeout ({timeout:.0f} s)"}
    if done.returncode != 0 or not done.stdout.strip():
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return {"file": file, "call": call, "max_len": max_len, "status": "refused: " + last[:150],
                "compile_s": time.perf_counter() - start}
    return json.loads(done.stdout.strip().splitlines()[-1])


def format_table(rows: list[dict]) -> str:
    lines = ["| program | max_len | params | non-zero | hidden | d_model | compile s | verify s | checked | result |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        if row["status"] != "ok":
            lines.append(f"| `{row['call']}` | {row['max_len']} | | | | | | | | {row['status']} |")
            continue
        verdict = "exact" if row["mismatches"] == 0 and row["attention_ok"] else f"{row['mismatches']} mismatches"
        lines.append(f"| `{row['call']}` | {row['max_len']} | {row['params']:,} | {row['nonzero']:,} | "
                     f"{row['hidden']:,} | {row['d_model']:,} | {row['compile_s']:.2f} | {row['verify_s']:.2f} | "
                     f"{row['checked']:,} | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-len", type=int, action="append", help="max_len to compile for (repeatable)")
    parser.add_argument("--random", type=int, default=200, help="random inputs verified beyond the exhaustive ones")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per program")
    parser.add_argument("--only", help="only calls containing this text")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", nargs=2, metavar=("FILE", "CALL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    lengths = args.max_len or [10, 32]
    if args.one:
        print(json.dumps(measure_one(*args.one, lengths[0], args.random)))
        return 0
    rows = []
    for max_len in lengths:
        for file, call in library_calls():
            if args.only and args.only not in call:
                continue
            rows.append(measure(file, call, max_len, args.random, args.timeout))
            if not args.json:
                print(format_table(rows[-1:]).splitlines()[-1], flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
