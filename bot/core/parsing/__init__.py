"""Understanding free-text messages: soreness, questions, massages and red flags.

`parse_message(text)` is the contract (shared/design.md, "Message parser"); pass `library=`
to read with other content than the shipped one. The stages live in their own modules (see
`pipeline` for the order):

- `tokens`: the one tokenizer, shared with `bot.core.timeplan`
- `fuzzy`: the one fuzzy matcher for misspelt words, shared with `bot.core.timeplan`
- `lexicon`: the phrase table and the grammar's words, built once per `Library`
- `spans`: phrase tagging and clauses
- `areas`, `flags`: area words and warning signs that the phrase table alone misreads
- `negation`, `severity`: what is denied, and how sore each area is
- `minutes`, `budget`: the time someone has to roll
- `workout`, `intent`: the workout ahead and the kind of message
"""

from bot.core.parsing.intent import INTENTS
from bot.core.parsing.lexicon import Lexicon, lexicon_for
from bot.core.parsing.pipeline import Parsed, parse_message, parse_with
from bot.core.parsing.tokens import (
    BREAK_TOKEN,
    MAX_TEXT,
    MIN_TOKEN,
    NUM_TOKEN,
    SEV_TOKEN,
    TIME_TOKEN,
    Piece,
    Tokens,
    tokenize,
)

__all__ = [
    "BREAK_TOKEN",
    "INTENTS",
    "MAX_TEXT",
    "MIN_TOKEN",
    "NUM_TOKEN",
    "SEV_TOKEN",
    "TIME_TOKEN",
    "Lexicon",
    "Parsed",
    "Piece",
    "Tokens",
    "lexicon_for",
    "parse_message",
    "parse_with",
    "tokenize",
]
