"""Every regular expression in ``bot/`` runs in linear time on outside text.

The audit finds every compiled pattern in the package (a pattern written anywhere else than
a module-level ``re.compile`` fails the audit, so none is forgotten), crafts attack strings
from each pattern's own structure (for every repetition in it: a prefix that reaches the
repetition, its body repeated, then a character that makes the match fail), keeps the
slowest few, and checks that each pattern handles 50 KB of them in under a second. Only the
regular-expression call is timed. The bound is a safety property, not a speed target: a
backtracking pattern takes minutes (or forever) at that size, a linear one milliseconds.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot

BOT = Path(bot.__file__).parent
ATTACK_CHARS = 50_000
SCREEN_CHARS = 2_000
BOUND_SECONDS = 1.0
VARIANTS = 10
ATTACKS_PER_REPETITION = 24
"""Sample strings kept per sub-pattern (chosen at random with a fixed seed)."""
POOL = " aA1.,-'’\n!&|:(\")—“?_#@/x\t"
"""Characters tried against each character class."""
_RE_CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall",
             "finditer"}  # fmt: skip


def _modules() -> Iterator[object]:
    for info in pkgutil.walk_packages([str(BOT)], prefix="bot."):
        if info.name.endswith(".__main__") or ".migrations" in info.name:
            continue  # these run when imported (the command line, Alembic's scripts)
        yield importlib.import_module(info.name)


def _patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    for module in _modules():
        for name, value in vars(module).items():
            where = f"{module.__name__}.{name}"
            if isinstance(value, dict):  # a table of patterns
                candidates = {f"{where}[{key!r}]": item for key, item in value.items()}
            elif isinstance(value, type) and value.__module__ == module.__name__:
                candidates = {f"{where}.{key}": item for key, item in vars(value).items()}
            else:
                candidates = {where: value}
            for label, item in candidates.items():
                if isinstance(item, re.Pattern) and isinstance(item.pattern, str):
                    found.setdefault(label, item)
    return found


PATTERNS = _patterns()


def test_every_regular_expression_is_a_module_level_pattern_the_audit_sees() -> None:
    """A pattern built inside a function, or passed to ``re.sub`` as a string, would escape
    the audit below: every use of ``re`` must go through a module-level compiled pattern."""
    stray = []
    for path in sorted(BOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_level = set()  # calls in module-level assignments and class keywords
        for statement in tree.body:
            if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value:
                module_level.update(map(id, ast.walk(statement.value)))
            elif isinstance(statement, ast.ClassDef):
                for keyword in statement.keywords:
                    module_level.update(map(id, ast.walk(keyword.value)))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in _RE_CALLS
                and not (node.func.attr == "compile" and id(node) in module_level)
            ):
                stray.append(f"{path.relative_to(BOT.parent)}:{node.lineno} re.{node.func.attr}")
    assert not stray, f"regular expressions outside a module-level re.compile: {stray}"
    assert len(PATTERNS) >= 60  # the audit really found the package's patterns


# --- crafting attacks from a pattern's structure -------------------------------------------


class _Crafter:
    """Sample strings for the parts of one parsed pattern."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self._flags = pattern.flags
        self._state = sre_parse.State()
        self._state.flags = pattern.flags
        self._random = random.Random(pattern.pattern)
        self.tree = sre_parse.parse(pattern.pattern, pattern.flags)
        self.repeats: list[object] = []
        self._find_repeats(self.tree)

    def _find_repeats(self, items: object) -> None:
        for op, value in items:  # type: ignore[attr-defined]
            if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
                if value[1] > 1:
                    self.repeats.append(value)
                self._find_repeats(value[2])
            elif op is sre.SUBPATTERN:
                self._find_repeats(value[3])
            elif op is sre.ATOMIC_GROUP:
                self._find_repeats(value)
            elif op is sre.BRANCH:
                for branch in value[1]:
                    self._find_repeats(branch)

    def attacks(self, length: int) -> Iterator[tuple[str, str, str]]:
        """(prefix, pump, tail): the pattern up to one repetition, that repetition's body,
        and a character the pattern does not expect."""
        for repeat in self.repeats:
            bodies = [body for body, _ in self._sequence(repeat[2], None) if body]  # type: ignore[index]
            prefixes = [prefix for prefix, reached in self._sequence(self.tree, repeat) if reached]
            attacks = [
                (prefix, body, tail)
                for body in bodies
                for prefix in prefixes
                for tail in ("!", "\n", "a")
            ]
            yield from self._random.sample(attacks, min(len(attacks), ATTACKS_PER_REPETITION))

    def _keep(self, samples: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        unique = list(dict.fromkeys(samples))
        if len(unique) <= VARIANTS:
            return unique
        return self._random.sample(unique, VARIANTS)

    def _sequence(self, items: object, stop: object) -> list[tuple[str, bool]]:
        """Samples of a sequence; with ``stop`` given, only up to that repetition (the bool
        says whether it was reached)."""
        samples: list[tuple[str, bool]] = [("", False)]
        for item in items:  # type: ignore[attr-defined]
            grown = []
            for text, reached in samples:
                if reached:
                    grown.append((text, True))
                    continue
                grown.extend((text + more, hit) for more, hit in self._item(item, stop))
            samples = self._keep(grown)
        return samples

    def _item(self, item: tuple[object, object], stop: object) -> list[tuple[str, bool]]:
        op, value = item
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, body = value  # type: ignore[misc]
            if value is stop:
                return [("", True)]
            inner = self._sequence(body, stop)
            out = [(text, hit) for text, hit in inner if hit]
            if low == 0:
                out.append(("", False))
            for text, hit in inner:
                if not hit:
                    out.append((text * max(low, 1), False))
                    if high > max(low, 1):
                        out.append((text * (max(low, 1) + 1), False))
            return out
        if op is sre.SUBPATTERN:
            return self._sequence(value[3], stop)  # type: ignore[index]
        if op is sre.ATOMIC_GROUP:
            return self._sequence(value, stop)
        if op is sre.BRANCH:
            return [s for branch in value[1] for s in self._sequence(branch, stop)]  # type: ignore[index]
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT, sre.GROUPREF, sre.GROUPREF_EXISTS):
            return [("", False)]
        return [(char, False) for char in self._chars(item)]

    def _chars(self, item: tuple[object, object]) -> list[str]:
        """A few characters one single-character item accepts."""
        op, value = item
        if op is sre.LITERAL:
            return [chr(value)]  # type: ignore[arg-type]
        single = sre_parse.SubPattern(self._state, [item])
        matcher = re._compiler.compile(single, self._flags)  # type: ignore[attr-defined]
        accepted = [c for c in POOL if matcher.fullmatch(c)]
        if not accepted:
            accepted = [c for c in map(chr, range(32, 0x2100)) if matcher.fullmatch(c)][:2]
        return accepted[:4]


def _text(prefix: str, pump: str, tail: str, length: int) -> str:
    return prefix + pump * max(1, (length - len(prefix)) // len(pump)) + tail


def _seconds(pattern: re.Pattern[str], text: str, runs: int = 1) -> float:
    """Time of a full scan (``findall`` tries every start, like ``sub`` and ``search``);
    the best of ``runs``, so that a busy machine's pauses are not taken for backtracking."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        pattern.findall(text)
        best = min(best, time.perf_counter() - started)
        if best < 0.01:
            break
    return best


def _screen(pattern: re.Pattern[str], attack: tuple[str, str, str]) -> float:
    """The attack's time at ``SCREEN_CHARS``, grown from short lengths so that an
    exponential pattern is caught before it hangs the test."""
    length, previous = 32, 0.0
    while True:
        seconds = _seconds(pattern, _text(*attack, length), runs=3)
        if seconds > BOUND_SECONDS or (seconds > 0.05 and seconds > 50 * previous):
            pytest.fail(
                f"{pattern.pattern!r} backtracks: {seconds:.2f} s on {length} characters "
                f"of {attack!r} ({previous:.4f} s on half of it)"
            )
        if length >= SCREEN_CHARS:
            return seconds
        length, previous = length * 2, seconds


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_each_pattern_handles_50_kb_of_its_worst_input_in_under_a_second(name: str) -> None:
    pattern = PATTERNS[name]
    crafter = _Crafter(pattern)
    attacks = list(dict.fromkeys(crafter.attacks(SCREEN_CHARS)))
    attacks.append(("", "a", "!"))  # a pattern without repetitions still reads 50 KB
    timed = sorted(((_screen(pattern, attack), attack) for attack in attacks), reverse=True)
    for _, attack in timed[:3]:
        seconds = _seconds(pattern, _text(*attack, ATTACK_CHARS))
        assert seconds < BOUND_SECONDS, f"{name} took {seconds:.2f} s on 50 KB of {attack!r}"


@pytest.mark.parametrize(
    ("name", "attack"),
    [
        ("bot.pipeline.clean._BYLINE_LINE", ("By ", "Aand", "A!")),
        ("bot.pipeline.clean._BYLINE_OUTLET", ("By ", "Aand", "A!")),
    ],
)
def test_the_reported_byline_attacks_are_linear(name: str, attack: tuple[str, str, str]) -> None:
    """``"By " + "Aand" * n + "A!"`` took 14 s at n = 22 before the byline rewrite."""
    _screen(PATTERNS[name], attack)
    assert _seconds(PATTERNS[name], _text(*attack, ATTACK_CHARS)) < BOUND_SECONDS


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=st.sampled_from(sorted(PATTERNS)),
    prefix=st.text(alphabet=POOL + "ByBYand", max_size=12),
    pump=st.text(alphabet=POOL + "ByBYand", min_size=1, max_size=6),
)
def test_random_pumps_stay_linear(name: str, prefix: str, pump: str) -> None:
    """Hypothesis looks for pumps the structural crafting did not think of."""
    _screen(PATTERNS[name], (prefix, pump, "!"))
