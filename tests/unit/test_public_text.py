from surveys.public_text import ENGLISH, WORDS, translate_message


def test_every_language_has_every_word():
    for lang, words in WORDS.items():
        assert set(words) == set(ENGLISH), lang


def test_validator_messages_are_translated_with_their_numbers():
    assert translate_message("Select an answer", "pl") == "Wybierz odpowiedź"
    assert translate_message("Enter a number between 0 and 100", "pl") == "Wpisz liczbę od 0 do 100"
    assert translate_message("Answer must be 2,000 characters or fewer", "pl") == "Odpowiedź może mieć najwyżej 2,000 znaków"
    assert translate_message("Something new", "pl") == "Something new"
    assert translate_message("Select an answer", "en") == "Select an answer"
