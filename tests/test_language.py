from __future__ import annotations

import pytest

from reelforge.text.language import (
    detect_language,
    detect_language_tag,
    is_rtl,
    script_of,
    unknown_script,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("مرحبا بكم في هذا الفيديو", "ar"),
        ("واش راك خويا؟ لاباس عليك", "ar"),  # Algerian Darija is written in Arabic script
        ("नमस्ते, आप कैसे हैं?", "hi"),
        ("こんにちは、世界。今日はいい天気です。", "ja"),
        ("カタカナだけ", "ja"),
        ("你好，世界。今天天气很好。", "zh"),
        ("안녕하세요 여러분", "ko"),
        ("Привет, как дела?", "ru"),
        ("שלום לכולם", "he"),
        ("สวัสดีครับ ทุกคน", "th"),
        ("வணக்கம் நண்பர்களே", "ta"),
        ("নমস্কার বন্ধুরা", "bn"),
    ],
)
def test_scripts(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The ocean remembers every ship that has ever crossed it.", "en"),
        ("Le chat est sur la table et il dort dans le soleil.", "fr"),
        ("L'eau de la mer est très froide aujourd'hui.", "fr"),
        ("El perro de mi vecino es muy grande y le gusta correr.", "es"),
        ("Der Hund ist sehr groß und er spielt gern mit den Kindern.", "de"),
        ("Il gatto è sulla tavola e dorme nel sole della mattina.", "it"),
        ("O cachorro do meu vizinho é muito grande e não gosta de gatos.", "pt"),
        ("De hond van mijn buurman is heel groot en hij speelt graag.", "nl"),
    ],
)
def test_latin_languages(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_empty_and_ambiguous_default_to_english() -> None:
    assert detect_language("") == "en"
    assert detect_language("   \n") == "en"
    assert detect_language("123 456 !!!") == "en"
    assert detect_language("Reelforge") == "en"


def test_mixed_text_follows_the_majority_script() -> None:
    # A Latin brand name inside Arabic narration keeps it Arabic...
    assert detect_language("مرحبا بكم في قناة YouTube الخاصة بنا اليوم") == "ar"
    # ...and one Arabic word inside an English sentence keeps it English.
    assert detect_language("The word for peace is سلام in Arabic and we say it often.") == "en"
    # Kana anywhere means Japanese even when Han characters dominate.
    assert detect_language("日本語の文章") == "ja"


def test_rtl_and_scripts() -> None:
    assert is_rtl("ar")
    assert is_rtl("ar-DZ")
    assert is_rtl("he")
    assert not is_rtl("en")
    assert not is_rtl("hi")
    assert script_of("en") == "latin"
    assert script_of("fr") == "latin"
    assert script_of("ar-dz") == "arabic"
    assert script_of("hi") == "devanagari"
    assert script_of("ja") == "cjk"
    assert script_of("zh") == "cjk"
    assert script_of("ru") == "cyrillic"
    assert script_of("ko") == "hangul"


@pytest.mark.parametrize(
    "text",
    [
        "الجو مزيان اليوم، on va à la plage avec les enfants et la famille",
        "سلام عليكم les amis, aujourd'hui نحكيلكم على une recette très facile",
        "راني في la maison avec mes cousins ce soir",
    ],
)
def test_darija_mixing_arabic_and_french_is_arabic_never_portuguese(text: str) -> None:
    assert detect_language(text) == "ar"
    assert detect_language_tag(text) == "ar-dz"  # its French runs go to the French voice


def test_darija_in_latin_letters_goes_to_the_french_voice() -> None:
    assert detect_language("wach rak khouya, labas? rani mlih el hamdoullah") == "fr"
    # One quoted Arabic word does not make French or English text Darija.
    assert detect_language_tag("Le mot paix se dit سلام en arabe et nous le disons.") == "fr"
    assert detect_language_tag("The word for peace is سلام in Arabic and we say it.") == "en"
    assert detect_language_tag("مرحبا بكم في قناة YouTube الخاصة بنا اليوم") == "ar"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ⴰⵣⵓⵍ ⴼⵍⵍⴰⵡⵏ", "Tifinagh"),
        ("ሰላም ለዓለም", "Ethiopic"),
        ("გამარჯობა", "Georgian"),
        ("Hello ⴰⵣⵓⵍ friends and neighbours", None),  # a stray word in a known script's text
        ("مرحبا بكم", None),
        ("नमस्ते दुनिया", None),
        ("こんにちは", None),
        ("Bonjour à tous", None),
        ("... 123 !!!", None),
    ],
)
def test_scripts_no_voice_reads_are_named(text: str, expected: str | None) -> None:
    assert unknown_script(text) == expected


def test_a_narration_no_voice_can_read_is_refused_before_any_voice_runs() -> None:
    from reelforge.errors import SpecError
    from reelforge.plan.narration import check_languages
    from reelforge.spec.parse import build_storyboard

    for language in (None, "en"):
        board = build_storyboard(
            {
                "language": language,
                "scenes": [{"narration": "Hello."}, {"narration": "ⴰⵣⵓⵍ ⴼⵍⵍⴰⵡⵏ"}],
            },
            source="test",
        )
        with pytest.raises(SpecError) as refused:
            check_languages(board)
        assert "scene 2 is written in Tifinagh script" in refused.value.message
        assert "reelforge voices" in (refused.value.hint or "")
