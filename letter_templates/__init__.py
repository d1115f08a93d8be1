"""The recruitment pack: letter, poster, leaflet, e-mail and text-message templates, per language, and the
pure renderer that fills them (context in, document out). Depends on nothing else of ours."""

from letter_templates.posters import PrintPiece, piece_docx, piece_html, qr_png, qr_svg
from letter_templates.renderer import (
    DEFAULT_LANGUAGE,
    KINDS,
    LETTER_KINDS,
    MESSAGE_KINDS,
    PRINT_KINDS,
    Block,
    Document,
    Language,
    MeetingDetails,
    PracticeDetails,
    Recipient,
    TemplateContext,
    TemplateProblem,
    check_template,
    language_for,
    languages,
    long_date,
    render,
    shipped_source,
)
from letter_templates.sms import SmsText, split_sms
from letter_templates.writers import Letter, csv_cell, letters_docx, letters_html, safe_csv

__all__ = [
    "DEFAULT_LANGUAGE", "KINDS", "LETTER_KINDS", "MESSAGE_KINDS", "PRINT_KINDS", "Block", "Document", "Language",
    "Letter", "MeetingDetails", "PracticeDetails", "PrintPiece", "Recipient", "SmsText", "TemplateContext",
    "TemplateProblem", "check_template", "csv_cell", "language_for", "languages", "letters_docx", "letters_html",
    "long_date", "piece_docx", "piece_html", "qr_png", "qr_svg", "render", "safe_csv", "shipped_source", "split_sms",
]
