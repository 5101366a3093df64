"""The recognised occupations (Ausbildungsberufe) the board accepts, and their search.

The list is data shipped with the project (`board/data/ausbildungsberufe.txt`, a
selection from the BIBB "Verzeichnis der anerkannten Ausbildungsberufe", source and
date in the file and in docs/board.md). German-aware matching: umlauts and ß fold to
ae/oe/ue/ss, case does not matter, and each gendered name is searchable in every form
it stands for: "Kaufmann/-frau für Büromanagement" is found by "Kaufmann",
"Kauffrau", "Kaufleute" and "bueromanagement"; "Koch/Köchin" by "Köchin".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "ausbildungsberufe.txt"
MAX_RESULTS = 20

FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    return " ".join(text.casefold().translate(FOLD).split())


def word_forms(word: str) -> list[str]:
    """The forms a gendered word stands for: "Kaufmann/-frau" -> Kaufmann, Kauffrau,
    Kaufleute; "Mechaniker/-in" -> Mechaniker, Mechanikerin; "Koch/Köchin" -> both;
    "Fachangestellte/-r" -> Fachangestellte, Fachangestellter."""
    if "/-" in word:
        base, suffix = word.split("/-", 1)
        if base.endswith("mann") and suffix == "frau":
            stem = base[: -len("mann")]
            return [base, stem + "frau", stem + "leute"]
        if base.endswith("e") and suffix == "in":  # Technologe/-in -> Technologin
            return [base, base[:-1] + "in"]
        return [base, base + suffix]
    if "/" in word:
        return [part for part in word.split("/") if part]
    return [word]


@dataclass(frozen=True)
class Occupation:
    name: str
    key: str  # every form, folded, for substring matching
    forms: frozenset[str]  # each complete spelled-out form, folded


def _forms_of(name: str) -> list[str]:
    variants = [""]
    for word in name.split():
        forms = word_forms(word)
        if len(forms) == 1:
            variants = [f"{v} {forms[0]}".strip() for v in variants]
        else:
            # Gendered words agree within one name: the first form with the first form.
            variants = [
                f"{v} {forms[min(i, len(forms) - 1)]}".strip()
                for v in variants
                for i in range(len(forms))
            ]
    return variants


@cache
def all_occupations() -> tuple[Occupation, ...]:
    names = [
        line.strip()
        for line in DATA_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    result = []
    for name in sorted(set(names), key=fold):
        forms = [fold(form) for form in _forms_of(name)]
        result.append(
            Occupation(name=name, key=" | ".join([fold(name), *forms]), forms=frozenset(forms))
        )
    return tuple(result)


TOKEN = re.compile(r"[\w-]+", re.UNICODE)


def search(query: str, *, limit: int = MAX_RESULTS) -> list[str]:
    """Names whose forms contain every word of the query; names starting with the
    first word come first, then alphabetical."""
    words = [fold(word) for word in TOKEN.findall(query)]
    if not words:
        return [occupation.name for occupation in all_occupations()[:limit]]
    found = [o for o in all_occupations() if all(word in o.key for word in words)]
    found.sort(key=lambda o: (not any(form.startswith(words[0]) for form in o.forms), fold(o.name)))
    return [occupation.name for occupation in found[:limit]]


def canonical(value: str) -> str | None:
    """The listed name for `value`: the name itself, or one of its spelled-out forms
    ("Industriekaufleute", "Mechatronikerin"), case and umlauts aside; else None."""
    folded = fold(value)
    if not folded:
        return None
    for occupation in all_occupations():
        if folded == fold(occupation.name) or folded in occupation.forms:
            return occupation.name
    return None
