"""Text messages: which alphabet a text needs, and how it splits into SMS segments.

A single SMS holds 160 characters of the GSM 03.38 7-bit alphabet (the extension characters `^{}\\[~]|€`
take two places each), or 70 UTF-16 code units when any character is outside that alphabet (UCS-2: Polish
letters such as "ą", Urdu, Bengali). A longer text is sent as a concatenated message whose parts carry a
header, leaving 153 GSM-7 places or 67 UCS-2 units each. We split at spaces where we can, never inside an
extension escape or a surrogate pair, so every part is a sensible piece of text on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}


@dataclass(frozen=True)
class SmsText:
    encoding: str  # gsm7 | ucs2
    units: int  # places used: GSM-7 septets or UTF-16 code units
    segments: tuple[str, ...]

    @property
    def parts(self) -> int:
        return len(self.segments)


def encoding_of(text: str) -> str:
    return "gsm7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "ucs2"


def _cost(char: str, encoding: str) -> int:
    if encoding == "gsm7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def units(text: str, encoding: str | None = None) -> int:
    encoding = encoding or encoding_of(text)
    return sum(_cost(c, encoding) for c in text)


def split_sms(text: str) -> SmsText:
    """The text as one SMS if it fits, else as concatenated segments split at spaces where possible."""
    text = " ".join(text.split())  # line breaks and runs of spaces cost places and say nothing in a text
    encoding = encoding_of(text)
    single, part = LIMITS[encoding]
    total = units(text, encoding)
    if total <= single:
        return SmsText(encoding, total, (text,) if text else ())
    segments: list[str] = []
    current, used = "", 0
    for word in text.split(" "):
        piece = word if not current else " " + word
        cost = units(piece, encoding)
        if used + cost <= part:
            current, used = current + piece, used + cost
            continue
        if current:
            segments.append(current)
        current, used = "", 0
        for char in word:  # a word longer than a segment is cut between characters
            cost = _cost(char, encoding)
            if used + cost > part:
                segments.append(current)
                current, used = "", 0
            current, used = current + char, used + cost
    if current:
        segments.append(current)
    return SmsText(encoding, total, tuple(segments))
