#!/usr/bin/env python3
"""Generates policy/syscall-table.c: every syscall name of the Linux kernel on
the architectures Docker's seccomp profiles name, with the kernel version
that added it, so that hostd tells a real syscall its libseccomp does not
know (left out of the filter, as runc does) from a misspelling (an error).

The source is libseccomp's own table of the kernel's syscall tables,
src/syscalls.csv (LGPL-2.1; one row per name, a number or PNR per
architecture, and a kernel-version column per architecture), read from a
git checkout of libseccomp:

  scripts/gen-syscall-table.py LIBSECCOMP_GIT_DIR >policy/syscall-table.c

The names and architectures come from the newest table (HEAD). The kernel
version of a name is the x86_64 (else the lowest other) version the table
gives it where the table has one (libseccomp filled them in for the
kernels up to 6.16), else the kernel of the first table in libseccomp's
history that lists the name (an upper bound, marked inexact). A row that is
not name followed by a number-or-PNR and a version per architecture stops
the generation with FILE:LINE:COLUMN and what is wrong."""
import re
import subprocess
import sys

# libseccomp's column -> hostd's SYSCALL_ARCH_ bit name (the architectures
# Docker maps; m68k, parisc and sh are in no Docker profile)
ARCHES = ["x86", "x86_64", "x32", "arm", "aarch64", "loongarch64", "mips", "mips64", "mips64n32", "ppc",
          "ppc64", "riscv64", "s390", "s390x"]


def fail(where, message):
    sys.exit(f"gen-syscall-table: {where}: {message}")


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def parse(text, where, strict=True):
    """{name: {arch: (number or None, (major, minor) or None)}}, and the
    kernel version in the header"""
    lines = text.splitlines()
    head = re.match(r"#syscall \(v(\d+)\.(\d+)", lines[0]) if lines else None
    if not head:
        fail(f"{where}:1:1", "expected the header '#syscall (vX.Y...' naming the kernel of the table")
    columns = lines[0].split(",")
    index = {}
    for arch in ARCHES:
        if arch not in columns:
            if strict:
                fail(f"{where}:1:1", f"no column {arch}: an architecture Docker maps")
            continue  # an older table, before libseccomp knew that architecture
        # the tables before libseccomp 2.6 have no version columns
        index[arch] = (columns.index(arch), columns.index(arch + "_kver") if arch + "_kver" in columns else None)
    rows = {}
    for n, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        if len(fields) != len(columns):
            fail(f"{where}:{n}:1", f"{len(fields)} fields, the header has {len(columns)}")
        name = fields[0]
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            fail(f"{where}:{n}:1", f'"{name}" is not a syscall name')
        per = {arch: (None, None) for arch in ARCHES}
        for arch, (ni, ki) in index.items():
            col = sum(len(f) + 1 for f in fields[:ni]) + 1
            number, kver = fields[ni], fields[ki] if ki is not None else "KV_UNDEF"
            if number != "PNR" and not number.isdigit():
                fail(f"{where}:{n}:{col}", f'{arch}: "{number}" is neither a number nor PNR')
            m = re.fullmatch(r"(?:SCMP_)?KV_(?:(\d+)_(\d+)|UNDEF)", kver)
            if not m:
                col = sum(len(f) + 1 for f in fields[:ki]) + 1
                fail(f"{where}:{n}:{col}", f'{arch}_kver: "{kver}" is not a kernel version')
            per[arch] = (None if number == "PNR" else int(number),
                         (int(m.group(1)), int(m.group(2))) if m.group(1) else None)
        rows[name] = per
    return rows, (int(head.group(1)), int(head.group(2)))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen-syscall-table.py LIBSECCOMP_GIT_DIR >policy/syscall-table.c")
    repo = sys.argv[1]
    head = git(repo, "rev-parse", "HEAD").strip()
    rows, newest = parse(git(repo, "show", "HEAD:src/syscalls.csv"), "HEAD:src/syscalls.csv")
    # the first table listing each name, oldest first; and any version
    # a table gave a name (the newest tables may not carry them)
    first_seen, explicit = {}, {}
    # every table of every branch, oldest first (the versions were filled
    # in on a branch of their own)
    for commit in git(repo, "log", "--all", "--reverse", "--date-order", "--format=%H", "--",
                      "src/syscalls.csv").split():
        try:
            old, kernel = parse(git(repo, "show", f"{commit}:src/syscalls.csv"), f"{commit[:12]}:src/syscalls.csv",
                                strict=False)
        except SystemExit:
            continue  # the first tables had another format (no kernel named)
        for name, per in old.items():
            first_seen.setdefault(name, kernel)
            versions = [per[a][1] for a in ARCHES if per[a][0] is not None and per[a][1]]
            x86_64 = per["x86_64"][1] if per["x86_64"][0] is not None else None
            # 3.0 is libseccomp's "always there": a floor, not a version
            found = x86_64 if x86_64 and x86_64 != (3, 0) else min([v for v in versions if v != (3, 0)], default=None)
            if found:
                explicit[name] = found
    print("/* SPDX-License-Identifier: LGPL-2.1-only */")
    print("/* Generated by scripts/gen-syscall-table.py from libseccomp's src/syscalls.csv")
    print(f" * (commit {head[:12]}, the kernel's tables of Linux {newest[0]}.{newest[1]}) and its history: do not edit.")
    print(" * Each name: the kernel version that added it (exact, or the first table that")
    print(" * listed it), and the architectures that have it. */")
    print()
    print("#include <stdlib.h>")
    print("#include <string.h>")
    print()
    print('#include "policy/syscall-table.h"')
    print()
    print("const SyscallName syscall_table[] = {")
    count = 0
    for name in sorted(rows):
        arches = [a for a in ARCHES if rows[name][a][0] is not None]
        if not arches:
            continue
        if name in explicit:
            (major, minor), exact = explicit[name], True
        else:
            (major, minor), exact = first_seen.get(name, newest), False
        mask = " | ".join("SYSCALL_ARCH_" + a.upper() for a in arches)
        print(f'        {{ "{name}", {major}, {minor}, {"true" if exact else "false"}, {mask} }},')
        count += 1
    print("};")
    print(f"const size_t syscall_table_size = {count};")
    print(f'const char syscall_table_kernel[] = "{newest[0]}.{newest[1]}";')
    print("""
static int by_name(const void *key, const void *entry) {
        return strcmp(key, ((const SyscallName *) entry)->name);
}

const SyscallName *syscall_table_find(const char *name) {
        return name ? bsearch(name, syscall_table, syscall_table_size, sizeof(SyscallName), by_name) : NULL;
}""")


main()
