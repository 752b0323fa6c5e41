#!/usr/bin/env python3
"""A wave's invariants, proven offline from Docker's node events.

Every manager's dockerd reports each change of a node's availability as a
node "update" event with availability.old/new (moby's daemon/cluster
events); each manager's stream is recorded during the whole run (one JSON
event per line, `docker events --filter type=node --format '{{json .}}'`).
The same change is seen by every manager that was up: events are merged by
(node, time, change). Replayed in time order they give, at every moment,
which nodes were drained, and the checks are exact, not sampled:

  - drained nodes never above max-unavailable;
  - at most one manager drained at any moment;
  - every drain followed by exactly one activation (none left drained
    unless named as expected to be);
  - no node drained twice within the wave (no step repeated).

Usage: wave-invariants.py --max-unavailable N --managers ID,ID,...
         [--since NANO] [--until NANO] [--left-drained ID,...] FILE...
Prints a table of the invariants with their counts; exits 1 if one fails,
or if a line of a recording is not an event (an unreadable record is an
error, not a sample to skip)."""
import argparse
import json
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--max-unavailable", type=int, required=True)
    p.add_argument("--managers", default="")
    p.add_argument("--since", type=int, default=0)
    p.add_argument("--until", type=int, default=2**63)
    p.add_argument("--left-drained", default="")
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    managers = set(filter(None, a.managers.split(",")))
    left_drained = set(filter(None, a.left_drained.split(",")))

    changes = {}
    bad = 0
    seen_lines = 0
    for path in a.files:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                seen_lines += 1
                try:
                    e = json.loads(line)
                    node = e["Actor"]["ID"]
                    attrs = e["Actor"].get("Attributes", {})
                    t = int(e["timeNano"])
                except (ValueError, KeyError, TypeError) as err:
                    print(f"{path}:{n}: not a Docker node event: {err}", file=sys.stderr)
                    bad += 1
                    continue
                if e.get("Type") != "node" or "availability.new" not in attrs:
                    continue
                if not (a.since <= t <= a.until):
                    continue
                changes[(node, t, attrs["availability.new"])] = (attrs.get("name", node), attrs.get("availability.old"))

    drained = set()
    most = most_managers = 0
    drains = {}
    activations = {}
    repeated = []
    order_errors = []
    for (node, t, new), (name, old) in sorted(changes.items(), key=lambda kv: kv[0][1]):
        if new == "drain":
            if node in drained:
                order_errors.append(f"{name} drained while drained")
            drained.add(node)
            drains[node] = drains.get(node, 0) + 1
            if drains[node] > 1:
                repeated.append(name)
        elif new == "active":
            if node in drained:
                activations[node] = activations.get(node, 0) + 1
            drained.discard(node)
        most = max(most, len(drained))
        most_managers = max(most_managers, len(drained & managers))

    names = {node: name for (node, _, _), (name, _) in changes.items()}
    not_activated = sorted(names[n] for n in drains if activations.get(n, 0) != drains[n] and n not in left_drained)
    left = sorted(names[n] for n in drained if n not in left_drained)

    rows = [
        ("drained at once <= max-unavailable", f"{most} <= {a.max_unavailable}", most <= a.max_unavailable),
        ("managers drained at once <= 1", f"{most_managers}", most_managers <= 1),
        ("drains, each followed by one activation", f"{sum(drains.values())} drains, "
         f"{sum(activations.values())} activations", not not_activated and not left),
        ("no node drained twice", f"{len(repeated)} repeated", not repeated and not order_errors),
        ("event records read", f"{seen_lines} lines, {len(changes)} changes, {bad} unreadable", bad == 0 and changes),
    ]
    width = max(len(r[0]) for r in rows)
    for what, count, ok in rows:
        print(f"{'ok  ' if ok else 'FAIL'} {what:<{width}}  {count}")
    if not_activated:
        print("not activated exactly once: " + ", ".join(not_activated))
    if left:
        print("left drained: " + ", ".join(left))
    if repeated or order_errors:
        print("repeated: " + ", ".join(repeated + order_errors))
    return 0 if all(r[2] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
