"""`python -m grading check [FILE]` and `python -m grading bench`."""

import sys


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: python -m grading check [FILE] | python -m grading bench [options]")
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "check":
        from grading.cli import check_main

        return check_main(rest)
    if command == "bench":
        from grading.bench import main as bench_main

        return bench_main(rest)
    print(f"unknown command {command!r}; try `python -m grading --help`", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
