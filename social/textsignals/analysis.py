"""Pure text analysis: no database writes. Runs offline (VADER's lexicon ships with the package)."""

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

QUOTE_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
CLAUSE = re.compile(r"[.,;:!?()\n]+")
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class IntentMatch:
    rule_id: int
    intent: str
    category_id: int
    category: str
    phrase: str
    matched: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RuleSpec:
    """What matching needs from an IntentRule, so matching is testable without the database."""

    rule_id: int
    phrase: str
    intent: str
    category_id: int
    category: str
    keywords: str = ""
    window: int = 4

    def terms(self) -> set[str]:
        if self.keywords.strip():
            words = [w.strip().lower() for w in self.keywords.split(",") if w.strip()]
        else:
            words = [w for w in WORD.findall(self.category.lower()) if len(w) > 2]
        terms = set()
        for word in words:
            terms.add(word)
            terms.add(singular(word))
            terms.add(word + "s")
        return terms


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def own_text(text: str) -> str:
    """The author's own words: quoted lines (Markdown ``>``) belong to someone else."""
    return QUOTE_LINE.sub(" ", text or "")


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment(text: str) -> float:
    if not text.strip():
        return 0.0
    return round(_analyzer().polarity_scores(text)["compound"], 4)


def sentiment_label(score: float | None) -> str:
    if score is None:
        return ""
    if score >= 0.05:
        return "positive"
    if score <= -0.05:
        return "negative"
    return "neutral"


def match_intents(text: str, rules: list[RuleSpec]) -> list[IntentMatch]:
    """Rules whose phrase is followed, within ``window`` words of the same clause, by a word
    naming the category ("broke my old camera" matches; "broke my arm, the camera" does not)."""
    found: dict[tuple[str, int], IntentMatch] = {}
    for clause in CLAUSE.split(text.lower()):
        _match_clause(WORD.findall(clause), rules, found)
    return list(found.values())


def _match_clause(words: list[str], rules: list[RuleSpec], found: dict) -> None:
    for rule in rules:
        phrase = WORD.findall(rule.phrase.lower())
        if not phrase:
            continue
        terms = rule.terms()
        size = len(phrase)
        for start in range(len(words) - size + 1):
            if words[start : start + size] != phrase:
                continue
            after = words[start + size : start + size + max(rule.window, 1)]
            hit = next((w for w in after if w in terms), None)
            if hit is not None:
                key = (rule.intent, rule.category_id)
                found.setdefault(
                    key,
                    IntentMatch(
                        rule_id=rule.rule_id,
                        intent=rule.intent,
                        category_id=rule.category_id,
                        category=rule.category,
                        phrase=rule.phrase,
                        matched=" ".join(
                            words[start : start + size] + after[: after.index(hit) + 1]
                        ),
                    ),
                )
                break
