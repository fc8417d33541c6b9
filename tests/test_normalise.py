"""Text normalisation before a voice speaks: numbers, money, dates, times, percentages and
abbreviations in words per language, and the engine's word times mapped back to what was
written."""

from __future__ import annotations

import pytest

from reelforge.engines.base import Word
from reelforge.errors import SpecError
from reelforge.text.normalise import cardinal, normalise, written_words

pytest.importorskip("num2words")


def said(text: str, language: str) -> str:
    return normalise(text, language).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il a 21 ans.", "Il a vingt et un ans."),
        ("Le 1er mars, au 2e étage.", "Le premier mars, au deuxième étage."),
        ("Il fait 3,5 degrés.", "Il fait trois virgule cinq degrés."),
        ("Ça coûte 12,50 €.", "Ça coûte douze euros cinquante."),
        ("Payez 1 500 DA ici.", "Payez mille cinq cents dinars ici."),
        (
            "Rendez-vous le 12/03/2024 à 14h30.",
            "Rendez-vous le douze mars deux mille vingt-quatre à quatorze heures trente.",
        ),
        ("Départ à 9 h 05.", "Départ à neuf heures cinq."),
        ("À 1h, on dort.", "À une heure, on dort."),
        ("Une hausse de 10 %.", "Une hausse de dix pour cent."),
        ("M. Dupont et Mme Ali, etc.", "Monsieur Dupont et Madame Ali, et cetera."),
        ("Il court 5 km.", "Il court cinq kilomètres."),
    ],
)
def test_french(text: str, expected: str) -> None:
    assert said(text, "fr") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "She paid $1,250.50 today.",
            "She paid one thousand two hundred and fifty dollars fifty today.",
        ),
        (
            "Born in 1990, he has 2024 cards.",
            "Born in nineteen ninety, he has two thousand and twenty-four cards.",
        ),
        ("The 1st, 2nd and 3rd floors.", "The first, second and third floors."),
        (
            "Meet at 2:05 on 03/12/2024.",
            "Meet at two oh five on March twelfth, twenty twenty-four.",
        ),
        (
            "Mr. Smith & Dr. Jones won 10% more.",
            "Mister Smith and Doctor Jones won ten percent more.",
        ),
        ("It costs €5 or ₹400.", "It costs five euros or four hundred rupees."),
    ],
)
def test_english(text: str, expected: str) -> None:
    assert said(text, "en") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Había 21 personas.", "Había veintiún personas."),
        ("Cuesta 1.250,50 €.", "Cuesta mil doscientos cincuenta euros con cincuenta."),
        ("Llegamos a las 14:30.", "Llegamos a las catorce y treinta."),
        (
            "El 12/03/2024 fue el 1º día.",
            "El doce de marzo de dos mil veinticuatro fue el primero día.",
        ),
        ("La Sra. López pagó 1 € y un 5 %.", "La señora López pagó un euro y un cinco por ciento."),
    ],
)
def test_spanish(text: str, expected: str) -> None:
    assert said(text, "es") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("دفعت 500 دج", "دفعت خمسمائة دينار"),
        ("في 12/03/2024", "في اثنا عشر مارس ألفان و أربعة و عشرون"),
        ("الساعة 14:30", "الساعة أربعة عشر و ثلاثون دقيقة"),
        ("زيادة ١٠٪ فقط", "زيادة عشرة بالمئة فقط"),  # Arabic-Indic digits and percent sign
        ("كم عمرك؟", "كم عمرك؟"),  # "how much": a word, not the km unit
    ],
)
def test_arabic(text: str, expected: str) -> None:
    assert said(text, "ar") == expected


def test_algerian_months_and_dinars() -> None:
    assert said("يوم 05/07/2024 دفعت 200 DA", "ar-dz") == (
        "يوم خمسة جويلية ألفان و أربعة و عشرون دفعت مئتا دينار"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("मेरी उम्र 21 साल है।", "मेरी उम्र इक्कीस साल है।"),
        ("कीमत ₹1,50,000 है।", "कीमत एक लाख पचास हज़ार रुपये है।"),
        ("Rs. 500 दीजिए", "पाँच सौ रुपये दीजिए"),
        ("सन 1990 में", "सन उन्नीस सौ नब्बे में"),
        ("12/03/2024 को 14:30 बजे", "बारह मार्च दो हज़ार चौबीस को चौदह तीस बजे"),
        ("सुबह 9:15 पर", "सुबह नौ बजकर पंद्रह मिनट पर"),
        (
            "डॉ. शर्मा 3.5 किमी चले, १० % ज़्यादा।",
            "डॉक्टर शर्मा तीन दशमलव पाँच किलोमीटर चले, दस प्रतिशत ज़्यादा।",
        ),
    ],
)
def test_hindi(text: str, expected: str) -> None:
    assert said(text, "hi") == expected


def test_hindi_numbers_use_indian_grouping() -> None:
    assert cardinal(99, "hi") == "निन्यानबे"
    assert cardinal(100, "hi") == "एक सौ"
    assert cardinal(2_50_00_000, "hi") == "दो करोड़ पचास लाख"
    assert cardinal(-7, "hi") == "माइनस सात"


def test_words_without_rules_and_other_languages_are_untouched() -> None:
    text = "Le modèle 4G, version COVID-19, coûte cher."
    result = normalise(text, "fr")
    assert result.text == text and not result.changed
    assert normalise("今日は3時です", "ja").text == "今日は3時です"


def test_times_come_back_onto_the_written_words() -> None:
    result = normalise("Payez 12,50 € le 1er.", "fr")
    spoken = result.text.split()  # Payez douze euros cinquante le premier.
    engine_words = [Word(w, 100 * i, 100 * i + 90) for i, w in enumerate(spoken)]
    back = written_words(engine_words, result)
    assert [w.text for w in back] == ["Payez", "12,50", "€", "le", "1er."]
    # "12,50 €" was said as three words (100..390 ms): the two written tokens share that time.
    assert (back[1].start_ms, back[1].end_ms, back[2].start_ms, back[2].end_ms) == (
        100,
        245,
        245,
        390,
    )
    assert (back[4].start_ms, back[4].end_ms) == (500, 590)
    # An engine that reports another count still gets ordered, non-overlapping words.
    odd = written_words(engine_words[:4], result)
    assert [w.text for w in odd] == ["Payez", "12,50", "€", "le", "1er."]
    assert all(a.end_ms <= b.start_ms for a, b in zip(odd, odd[1:], strict=False))


@pytest.mark.parametrize("text", ["€ % !!", "   ", "…"])
def test_a_text_with_nothing_to_say_is_a_clear_error(text: str) -> None:
    with pytest.raises(SpecError) as err:
        normalise(text, "fr")
    assert "nothing to say" in err.value.message
    assert "words" in err.value.hint
