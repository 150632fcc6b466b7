"""process_map spreads big batches over processes and returns exactly what a list comprehension would."""

from __future__ import annotations

from bot.adapters.parallel import MIN_ITEMS, process_map
from bot.app.status import summarize

GOOD = (
    "apiVersion: promobot/v1\nkind: ModelDeployment\nname: m{i}\nversion: '1.{i}.0'\n"
    "artifact: {{uri: 's3://x/m{i}', digest: 'sha256:{d}'}}\n"
)


def jobs(n: int) -> list[tuple[str, str, bytes]]:
    out = []
    for i in range(n):
        text = GOOD.format(i=i, d="a" * 64) if i % 7 else "name: [unclosed\n"
        out.append((f"environments/dev/m{i}.yaml", f"m{i}", text.encode()))
    return out


def test_a_big_batch_gives_the_same_results_in_the_same_order_as_in_process() -> None:
    batch = jobs(MIN_ITEMS + 101)
    expected = [summarize(job) for job in batch]
    assert process_map(summarize, batch) == expected
    assert expected[1] == ("1.1.0", None)
    assert expected[0][0] is None and "invalid YAML" in (expected[0][1] or "")


def test_a_small_batch_stays_in_process() -> None:
    calls: list[int] = []

    def record(x: int) -> int:  # a closure cannot cross a process boundary: proves no fork happened
        calls.append(x)
        return x * 2

    assert process_map(record, list(range(10))) == [x * 2 for x in range(10)]
    assert calls == list(range(10))
