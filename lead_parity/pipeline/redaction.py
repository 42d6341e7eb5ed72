"""Email-like tokens masked in SQL: the one pattern the ingestion's reasons and the published
snapshot's ops tables are cleaned with."""

from __future__ import annotations

# Any run of non-separator characters around an "@" (also JSON's \u0040 and URL's %40): broader
# than an email grammar on purpose, since the text it cleans is by definition malformed input.
_TOKEN = r"""[^\s"<>(),;:\[\]{}\\]"""
EMAIL_PATTERN = _TOKEN + r"+(@|\\u0040|%40)" + _TOKEN + "+"
EMAIL_MASK = "<email>"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mask_emails_sql(expr: str) -> str:
    """SQL for the text `expr` with every email-like token replaced by `<email>`."""
    return f"regexp_replace({expr}, {_literal(EMAIL_PATTERN)}, {_literal(EMAIL_MASK)}, 'g')"
