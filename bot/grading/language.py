"""Whether an answer is written in another language than English.

The grader reads English only: an answer in Spanish scored against English key points would get
"missing key ideas" and tips about what it did say. Such an answer is told to come back in
English instead, with nothing recorded. The test is deliberately conservative: letters mostly
outside the Latin script, or clearly more function words of a common European language than of
English. A keyword list, code, or an English answer quoting a foreign phrase stays English.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_ENGLISH = frozenset((
    "the", "of", "and", "to", "is", "are", "was", "were", "be", "been", "that", "this",
    "these", "those", "it", "its", "with", "for", "from", "by", "not", "but", "or", "if",
    "then", "than", "which", "who", "what", "when", "where", "why", "how", "would", "should",
    "could", "will", "can", "do", "does", "you", "your", "we", "our", "they", "their", "i",
    "my", "he", "she", "his", "her", "them", "have", "has", "had", "there", "here", "into",
    "about", "because", "so", "also", "more", "most", "very", "just", "only",
))
# Function words of Spanish, French, German, Portuguese and Italian that are not English words.
_FOREIGN = frozenset((
    "el", "los", "las", "del", "una", "unos", "unas", "por", "para", "con", "pero", "como",
    "más", "muy", "también", "porque", "cuando", "donde", "está", "están", "es", "son", "ser",
    "sus", "les", "des", "est", "une", "dans", "pour", "pas", "avec", "sont", "cette", "ces",
    "mais", "très", "aussi", "parce", "quand", "où", "nous", "vous", "ils", "elles", "leur",
    "qui", "que", "und", "ist", "nicht", "eine", "einen", "einem", "einer", "mit", "dem",
    "den", "von", "auf", "für", "sich", "auch", "wir", "ihr", "sie", "sind", "wird", "werden",
    "oder", "aber", "wenn", "weil", "dass", "não", "uma", "com", "são", "também", "quando",
    "muito", "mas", "isso", "este", "esta", "então", "della", "dello", "degli", "sono",
    "molto", "anche", "perché", "questo", "questa", "nella", "delle", "dos", "das", "ao",
    "pelo", "pela", "seu", "sua", "ele", "ela", "al", "lo", "le", "la", "du", "au",
))
OTHER_LANGUAGE = ("Please answer in English: mlquiz can only grade English answers. Nothing was "
                  "recorded, so your answer in English still counts.")
MIN_WORDS = 4
MIN_LETTERS = 12
NON_LATIN_SHARE = 0.3


def other_language(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if unicodedata.name(c, "").startswith("LATIN"))
    if len(letters) >= MIN_LETTERS and 1 - latin / len(letters) > NON_LATIN_SHARE:
        return True  # Chinese, Russian, Arabic…: scripts without spaces need no word count
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return False
    english = sum(1 for w in words if w in _ENGLISH)
    foreign = sum(1 for w in words if w in _FOREIGN)
    return foreign >= 3 and foreign > 2 * english
