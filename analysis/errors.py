"""Mistakes in what a user gave (a JSON file, a BPMN model, a form field), told in either language."""

from __future__ import annotations

import json

from analysis.texts import t


class UserError(ValueError):
    """A mistake the user can fix, as a text key and its values (analysis/texts.py).

    str() is the English text, so logs and tests read it; message(lang) is what a page or the CLI
    shows. A value that is itself a UserError is shown in the same language.
    """

    def __init__(self, text_key: str, /, **values):
        self.key, self.values = text_key, values
        super().__init__(self.message("en"))

    def __reduce__(self):
        # Copies and pickles (Streamlit's cache) rebuild it from its key and values, not from its text.
        return _rebuild, (self.key, self.values)

    def message(self, lang: str = "en") -> str:
        values = {k: v.message(lang) if isinstance(v, UserError) else v for k, v in self.values.items()}
        return t(self.key, lang, **values) if values else t(self.key, lang).format()


def _rebuild(key: str, values: dict) -> UserError:
    return UserError(key, **values)


def error_text(exc: BaseException, lang: str = "en") -> str:
    """What to show for an exception: a UserError in the user's language, anything else as it reads."""
    return exc.message(lang) if isinstance(exc, UserError) else str(exc)


def parse_json(text: str):
    """json.loads, with a malformed document as a UserError naming line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError("err.not_json", line=exc.lineno, column=exc.colno, detail=exc.msg) from None
