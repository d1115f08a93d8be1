"""The public form's own words (buttons, headings, messages), per language.

Survey content comes from each survey's definition; these are the few strings around it. To add a
language, add a dictionary with every key of `ENGLISH` (a test checks that none is missing) and the
language's direction if it is written right to left.
"""

from __future__ import annotations

ENGLISH = {
    "skip": "Skip to main content",
    "problem": "There is a problem",
    "section": "Section {current} of {total}",
    "continue": "Continue",
    "back": "Back",
    "submit": "Send my answers",
    "save": "Save and come back later",
    "optional": "(optional)",
    "day": "Day", "month": "Month", "year": "Year",
    "select_all": "Select all that apply.",
    "scale_hint": "0 is the lowest, 10 the highest.",
    "thanks_title": "Thank you",
    "thanks_body": "Your answers have been sent to the practice.",
    "saved_title": "Your answers are saved",
    "saved_body": "To carry on later, keep this link. Anyone with the link can see and change your answers, so do not share it.",
    "not_found_title": "We cannot find this survey",
    "not_found_body": "Check the link you were given. If it still does not work, ask the practice.",
    "closed_title": "This survey has closed",
    "closed_body": "Thank you for your interest. The practice is no longer collecting answers to this survey.",
    "used_title": "These answers have already been sent",
    "used_body": "This link was for one set of answers, and they have been sent. Thank you.",
    "invite_title": "This survey needs your personal link",
    "invite_body": "Use the link the practice sent you by text message, e-mail or letter.",
    "slow_title": "Please wait a moment",
    "slow_body": "We have had a lot of answers from this connection. Try again in {minutes} minutes.",
    "language": "Language",
    "change_language": "Change",
    "honeypot": "Leave this box empty",
}

POLISH = {
    "skip": "Przejdź do treści",
    "problem": "Wystąpił problem",
    "section": "Część {current} z {total}",
    "continue": "Dalej",
    "back": "Wstecz",
    "submit": "Wyślij odpowiedzi",
    "save": "Zapisz i wróć później",
    "optional": "(opcjonalnie)",
    "day": "Dzień", "month": "Miesiąc", "year": "Rok",
    "select_all": "Zaznacz wszystkie pasujące odpowiedzi.",
    "scale_hint": "0 to najniższa ocena, 10 najwyższa.",
    "thanks_title": "Dziękujemy",
    "thanks_body": "Twoje odpowiedzi zostały wysłane do przychodni.",
    "saved_title": "Twoje odpowiedzi zostały zapisane",
    "saved_body": "Aby dokończyć później, zachowaj ten link. Każdy, kto ma ten link, może zobaczyć i zmienić Twoje odpowiedzi, więc nie udostępniaj go.",
    "not_found_title": "Nie możemy znaleźć tej ankiety",
    "not_found_body": "Sprawdź otrzymany link. Jeśli nadal nie działa, zapytaj w przychodni.",
    "closed_title": "Ta ankieta została zamknięta",
    "closed_body": "Dziękujemy za zainteresowanie. Przychodnia nie zbiera już odpowiedzi na tę ankietę.",
    "used_title": "Te odpowiedzi zostały już wysłane",
    "used_body": "Ten link służył do wysłania jednego zestawu odpowiedzi i zostały one wysłane. Dziękujemy.",
    "invite_title": "Ta ankieta wymaga Twojego osobistego linku",
    "invite_body": "Użyj linku, który przychodnia wysłała Ci SMS-em, e-mailem lub listem.",
    "slow_title": "Prosimy chwilę poczekać",
    "slow_body": "Otrzymaliśmy wiele odpowiedzi z tego połączenia. Spróbuj ponownie za {minutes} min.",
    "language": "Język",
    "change_language": "Zmień",
    "honeypot": "Zostaw to pole puste",
}

WORDS = {"en": ENGLISH, "pl": POLISH}
RIGHT_TO_LEFT = {"ar", "fa", "he", "ur", "ps", "yi"}
LANGUAGE_NAMES = {"en": "English", "pl": "Polski", "ur": "اردو", "bn": "বাংলা", "pa": "ਪੰਜਾਬੀ", "ar": "العربية",
                  "ro": "Română", "lt": "Lietuvių", "pt": "Português", "es": "Español", "fr": "Français",
                  "gu": "ગુજરાતી", "ta": "தமிழ்", "so": "Soomaali", "tr": "Türkçe", "zh": "中文"}


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, ENGLISH)


# The validator's messages a patient can meet on the form, translated; others fall back to English.
# Keys are regular expressions over the English message; groups carry numbers and dates across.
MESSAGES = {
    "pl": {
        r"Select an answer": "Wybierz odpowiedź",
        r"Select an answer for this row": "Wybierz odpowiedź w tym wierszu",
        r"Select at least one answer": "Zaznacz co najmniej jedną odpowiedź",
        r"Select one of the answers given": "Wybierz jedną z podanych odpowiedzi",
        r"Select only answers that are given": "Zaznacz tylko podane odpowiedzi",
        r"Select a (?:whole )?number from 0 to 10": "Wybierz liczbę od 0 do 10",
        r"Answer this question": "Odpowiedz na to pytanie",
        r"Enter an answer": "Wpisz odpowiedź",
        r"Enter a date": "Wpisz datę",
        r"Enter a real date, for example (.+)": r"Wpisz prawdziwą datę, na przykład \1",
        r"Enter a date on or after (.+)": r"Wpisz datę nie wcześniejszą niż \1",
        r"Enter a date on or before (.+)": r"Wpisz datę nie późniejszą niż \1",
        r"Enter a (?:whole )?number(?:, like .+)?": "Wpisz liczbę",
        # Exclusive bounds and ranges (issue 23): before the general patterns below, which would also match.
        r"Enter (?:a|a whole) number from (.+) to (.+) in steps of (.+)": r"Wpisz liczbę od \1 do \2 co \3",
        r"Enter (?:a|a whole) number that is more than (.+) and less than (.+)":
            r"Wpisz liczbę większą niż \1 i mniejszą niż \2",
        r"Enter (?:a|a whole) number that is more than (.+) and (.+) or less":
            r"Wpisz liczbę większą niż \1 i nie większą niż \2",
        r"Enter (?:a|a whole) number that is (.+) or more and less than (.+)":
            r"Wpisz liczbę nie mniejszą niż \1 i mniejszą niż \2",
        r"Enter (?:a|a whole) number that is more than (.+)": r"Wpisz liczbę większą niż \1",
        r"Enter (?:a|a whole) number that is less than (.+)": r"Wpisz liczbę mniejszą niż \1",
        r"Enter (?:a|a whole) number between (.+) and (.+)": r"Wpisz liczbę od \1 do \2",
        r"Enter (?:a|a whole) number that is (.+) or more": r"Wpisz liczbę nie mniejszą niż \1",
        r"Enter (?:a|a whole) number that is (.+) or less": r"Wpisz liczbę nie większą niż \1",
        r"Answer must be (.+) characters or fewer": r"Odpowiedź może mieć najwyżej \1 znaków",
    },
}


def translate_message(message: str, lang: str) -> str:
    import re

    for pattern, translated in MESSAGES.get(lang, {}).items():
        match = re.fullmatch(pattern, message)
        if match:
            return match.expand(translated)
    return message
