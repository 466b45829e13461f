from tests.benchprobe import probe


def main(argv: list[str]) -> int:
    return probe("probe_one")
